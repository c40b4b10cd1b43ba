/**
 * The API speaks Relay global ids (base64 of `Type:uuid`); the console's addresses use the
 * plain uuid, which reads better and needs no escaping in a path.
 */
export function toGlobalId(typename: string, localId: string): string {
  return btoa(`${typename}:${localId}`);
}

export function toLocalId(globalId: string): string {
  try {
    const decoded = atob(globalId);
    const colon = decoded.indexOf(":");
    return colon > 0 ? decoded.slice(colon + 1) : globalId;
  } catch {
    return globalId;
  }
}

/** The audit stream of a secret (`secret-<uuid>`), for the audit log's credential filter. */
export function secretStreamId(secretGlobalId: string): string {
  return `secret-${toLocalId(secretGlobalId)}`;
}
