import { createHash, randomUUID } from "node:crypto";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";

/**
 * Applies prisma/migrations/<name>/migration.sql in order, as the database owner, and
 * records them in Prisma's `_prisma_migrations` table (same columns and checksums), so a
 * database migrated here is also valid for `prisma migrate deploy`. We do not run Prisma's
 * native schema engine: it cannot be downloaded here (see TOOLCHAIN.md). Each migration
 * runs as one query inside one transaction, so hand-written `$$` bodies survive and a
 * failure leaves nothing half-applied.
 */
export type MigrationResult = { applied: string[]; alreadyApplied: number };

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../../prisma/migrations");
// Same lock key as Prisma's migrate, so the two never run concurrently.
const ADVISORY_LOCK = 72707369;

export class MigrationError extends Error {
  override name = "MigrationError";
}

export async function applyMigrations(
  adminUrl: string,
  dir = MIGRATIONS_DIR,
): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const { rows } = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
    }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const done = new Map(rows.map((r) => [r.migration_name, r]));
    const applied: string[] = [];
    for (const name of listMigrations(dir)) {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      const previous = done.get(name);
      if (previous) {
        if (!previous.finished_at)
          throw new MigrationError(
            `Migration ${name} started earlier but never finished; resolve it by hand.`,
          );
        if (previous.checksum !== checksum)
          throw new MigrationError(`Migration ${name} was modified after it was applied.`);
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [randomUUID(), checksum, name],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new MigrationError(`Migration ${name} failed: ${(error as Error).message}`);
      }
      applied.push(name);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK]).catch(() => undefined);
    await client.end();
  }
}

/** The migration directories under `dir`, in the order applyMigrations applies them. */
export function listMigrations(dir = MIGRATIONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, "migration.sql")))
    .map((e) => e.name)
    .sort();
}

/**
 * Gives a login role membership in `coffer_app` (created by the migrations), so the
 * application connects with exactly the rights the migrations granted and no more.
 * Replicas starting together all run this: under the migrations' lock, or two of them
 * would both find the role missing and the second CREATE ROLE would fail (pg_authid's
 * unique index) and take its process down.
 */
export async function ensureAppLogin(
  adminUrl: string,
  login: { user: string; password: string },
): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK]);
    const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [login.user]);
    const ident = client.escapeIdentifier(login.user);
    const password = client.escapeLiteral(login.password);
    await client.query(
      exists.rowCount
        ? `ALTER ROLE ${ident} LOGIN PASSWORD ${password}`
        : `CREATE ROLE ${ident} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${password}`,
    );
    await client.query(`GRANT coffer_app TO ${ident}`);
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK]).catch(() => undefined);
    await client.end();
  }
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!exists.rowCount)
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

export function withDatabase(
  url: string,
  database: string,
  credentials?: { user: string; password: string },
): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (credentials) {
    u.username = encodeURIComponent(credentials.user);
    u.password = encodeURIComponent(credentials.password);
  }
  return u.toString();
}
