import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { withDatabase } from "../../server/src/db/migrate.ts";
import { APP_LOGIN, TEMPLATE_DATABASE } from "./globalSetup.ts";

export type TestDatabase = {
  /** The application's connection: a login in the coffer_app role, like production. */
  appUrl: string;
  /** Superuser, for what only tests may do (disable triggers, inject failures). */
  adminUrl: string;
  admin<T extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<T[]>;
};

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject("pgAdminUrl");
  const name = `coffer_test_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
        break;
      } catch (error) {
        // Two files cloning the template at the same instant: try again shortly.
        if (attempt >= 20 || !String(error).includes("being accessed")) throw error;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  } finally {
    await client.end();
  }
  const adminUrl = withDatabase(serverUrl, name);
  return {
    appUrl: withDatabase(serverUrl, name, APP_LOGIN),
    adminUrl,
    async admin(sql, params) {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        return (await c.query(sql, params as unknown[])).rows;
      } finally {
        await c.end();
      }
    },
  };
}
