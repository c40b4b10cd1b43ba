import { decodeGlobalID } from "@pothos/plugin-relay";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { isUuid } from "../domain/uuid.ts";

/**
 * A global id of the expected type, or NotFound: a malformed id, an id of another type
 * and another tenant's id all answer the same way as an id that does not exist.
 */
export function localId(globalId: string | number, typename: string, label = typename): string {
  try {
    const decoded = decodeGlobalID(String(globalId));
    if (decoded.typename === typename && isUuid(decoded.id)) return decoded.id;
  } catch {
    // fall through
  }
  throw new NotFoundError(label);
}

/** The local id, or null when the global id is malformed or of another type. */
export function tryLocalId(globalId: string | number, typename: string): string | null {
  try {
    return localId(globalId, typename);
  } catch {
    return null;
  }
}
