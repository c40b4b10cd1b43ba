import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { withDatabase } from "../../server/src/db/migrate.ts";

export type ReplicaDatabase = {
  /** Superuser on this database: what the replicas get as DATABASE_ADMIN_URL. */
  adminUrl: string;
  /** The replicas' DATABASE_URL: a login the first replica to start puts in coffer_app. */
  appUrl: string;
  /** One statement as the superuser (to inspect or to age rows). */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>;
  /** Drops the database, even with replicas still connected. */
  drop(): Promise<void>;
};

/**
 * An empty database on the run's embedded PostgreSQL for real Coffer processes. Unlike
 * testkit/database.ts it is not cloned from the migrated template: the replicas migrate it
 * themselves at start, all at once, as production replicas do.
 */
export async function createReplicaDatabase(prefix: string): Promise<ReplicaDatabase> {
  const serverUrl = inject("pgAdminUrl");
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const adminUrl = withDatabase(serverUrl, name);
  return {
    adminUrl,
    appUrl: withDatabase(serverUrl, name, {
      user: `${prefix}_app`,
      password: `${prefix}-app-password`,
    }),
    async sql(text, params = []) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        return (await client.query(text, params)).rows;
      } finally {
        await client.end();
      }
    },
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
