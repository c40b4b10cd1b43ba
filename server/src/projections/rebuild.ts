import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPrismaClient, type Db } from "../db/database.ts";
import { applyMigrations, withDatabase } from "../db/migrate.ts";
import { compareProjections, type ProjectionDifference } from "./compare.ts";
import { replayInto } from "./replay.ts";

/**
 * Replays every event into fresh projection tables (a scratch database on the same
 * server, migrated like the real one) and compares them with the live tables. The scratch
 * database is dropped afterwards. `serverAdminUrl` must be allowed to create databases.
 */
export async function rebuildAndCompare(
  live: Db,
  serverAdminUrl: string,
): Promise<{ events: number; differences: ProjectionDifference[] }> {
  const name = `coffer_rebuild_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = withDatabase(serverAdminUrl, name);
    await applyMigrations(url);
    const replayed = createPrismaClient(url, 2);
    try {
      const events = await replayInto(live, replayed);
      return { events, differences: await compareProjections(live, replayed) };
    } finally {
      await replayed.$disconnect();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}
