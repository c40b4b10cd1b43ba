/**
 * Whether a string is a UUID. Ids from clients are checked before they reach a uuid
 * column: PostgreSQL would reject a malformed one with an error instead of "not found".
 */
export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
