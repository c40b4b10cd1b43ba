import type { Db, Tx } from "../db/database.ts";
import { Prisma } from "../generated/prisma/client.ts";
import type { RewrapLease } from "./rewrapLease.ts";
import type { Transit } from "../transit/Transit.ts";

/**
 * The organization's ciphertexts that are not secret versions: OAuth client secrets and
 * tokens, and webhook signing keys (oauth/sealedValues.ts), all under the organization's
 * transit key. A re-wrap must move them too before it raises the key's minimum version,
 * or they could never be decrypted again.
 *
 * Table and column names come from this constant list only, never from input.
 */
const SEALED_COLUMNS = [
  { table: "oauth_providers", column: "client_secret_ciphertext" },
  { table: "oauth_connections", column: "access_token_ciphertext" },
  { table: "oauth_connections", column: "refresh_token_ciphertext" },
  { table: "webhook_subscriptions", column: "secret_ciphertext" },
] as const;

const keyVersionOf = (column: string) => `substring(${column} from '^vault:v([0-9]+):')::int`;

/** How many sealed values are still below key version `target`. */
export async function countStaleSealed(
  db: Db | Tx,
  organizationId: string,
  target: number,
): Promise<number> {
  let stale = 0;
  for (const { table, column } of SEALED_COLUMNS) {
    const [row] = await db.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM ${table} WHERE organization_id = $1::uuid AND ${column} IS NOT NULL AND ${keyVersionOf(column)} < $2`,
      organizationId,
      target,
    );
    stale += row!.n;
  }
  return stale;
}

/**
 * Re-wraps every sealed value below `target`, in batches, each written back only where the
 * row still holds the ciphertext that was read (a token refreshed meanwhile is already
 * newer and is left alone), and only while `lease` is held. Returns how many were moved.
 */
export async function rewrapSealed(
  deps: { db: Db; transit: Transit },
  input: {
    organizationId: string;
    keyName: string;
    target: number;
    batchSize: number;
    lease: RewrapLease;
  },
): Promise<number> {
  let moved = 0;
  for (const { table, column } of SEALED_COLUMNS) {
    const rows = await deps.db.$queryRawUnsafe<{ id: string; ciphertext: string }[]>(
      `SELECT id::text AS id, ${column} AS ciphertext FROM ${table} WHERE organization_id = $1::uuid AND ${column} IS NOT NULL AND ${keyVersionOf(column)} < $2 ORDER BY id`,
      input.organizationId,
      input.target,
    );
    for (let start = 0; start < rows.length; start += input.batchSize) {
      const batch = rows.slice(start, start + input.batchSize);
      input.lease.check();
      const fresh = await deps.transit.rewrap(
        input.keyName,
        batch.map((r) => r.ciphertext),
      );
      const written = await input.lease.fenced<{ held: number; moved: number }>(
        deps.db,
        (lease) => Prisma.sql`
          WITH ${lease}, moved AS (
            UPDATE ${Prisma.raw(table)} AS t SET ${Prisma.raw(column)} = u.fresh
            FROM unnest(${batch.map((r) => r.id)}::uuid[], ${batch.map((r) => r.ciphertext)}::text[], ${fresh}::text[]) AS u(id, old, fresh), lease
            WHERE t.id = u.id AND t.${Prisma.raw(column)} = u.old
            RETURNING 1)
          SELECT (SELECT count(*) FROM lease)::int AS held, (SELECT count(*) FROM moved)::int AS moved`,
      );
      moved += written.moved;
    }
  }
  return moved;
}
