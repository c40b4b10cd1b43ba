// `npm run projections:check`: replays the whole event log into a scratch database on the
// same PostgreSQL server (created and dropped by the admin login: the embedded superuser, or
// DATABASE_ADMIN_URL) and compares its projections with the live ones, read with the app's
// login. Reaches the database the way `npm start` does (see cliDatabase.ts). Rows written
// while it runs may show up as differences: run it again, or while Coffer is idle.
// Exit codes: 0 the projections match, 1 they differ or the check failed, 2 usage or
// configuration error.
import { parseArgs } from "node:util";
import { createPrismaClient } from "../server/src/db/database.ts";
import type { ProjectionDifference } from "../server/src/projections/compare.ts";
import { rebuildAndCompare } from "../server/src/projections/rebuild.ts";
import { openDatabase } from "./cliDatabase.ts";
import { ConfigurationFailure, createCliRun } from "./cliRun.ts";

const USAGE = `Usage: npm run projections:check

Replays every event into a scratch database and compares the projections with the live
tables. Needs a login that may create databases: the embedded PostgreSQL's superuser, or
DATABASE_ADMIN_URL with an external PostgreSQL.
`;

const cli = createCliRun("projections check");
const { cleanups, stopIfInterrupted } = cli;

async function main(): Promise<number> {
  try {
    const { values } = parseArgs({
      options: { help: { type: "boolean", short: "h", default: false } },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const config = cli.loadConfig();

  const database = await openDatabase(config, {
    login: "admin",
    purpose: "the check",
    onStartServer: cli.serverStarted,
  });
  cleanups.unshift(() => database.close());
  stopIfInterrupted();
  const live = createPrismaClient(database.url, 2);
  cleanups.unshift(() => live.$disconnect());

  let result;
  try {
    result = await rebuildAndCompare(live, database.serverAdminUrl);
  } catch (error) {
    // 42501: insufficient privilege (CREATE DATABASE); 28P01: wrong password.
    const code = (error as { code?: string }).code;
    if (code === "42501" || code === "28P01") {
      throw new ConfigurationFailure(
        `The admin login cannot create the scratch database (${(error as Error).message}). ` +
          (config.database.kind === "external"
            ? "Set DATABASE_ADMIN_URL to a login that may create databases (CREATEDB)."
            : "Check COFFER_DATA_DIR."),
      );
    }
    throw error;
  }
  stopIfInterrupted();

  const { events, differences } = result;
  if (differences.length === 0) {
    process.stdout.write(`replayed ${events} events: projections match\n`);
    return 0;
  }
  process.stdout.write(
    `replayed ${events} events: projections differ in ${differences.length} table${differences.length === 1 ? "" : "s"}\n${differences.map(describe).join("")}`,
  );
  return 1;
}

/** One table's differing rows (at most five each way, as compare.ts keeps them). */
function describe({ table, onlyLive, onlyReplayed }: ProjectionDifference): string {
  const rows = (label: string, list: string[]) =>
    list.length === 0
      ? ""
      : `  ${label} (${list.length === 5 ? "5 or more, the first 5" : list.length}):\n${list.map((row) => `    ${row}\n`).join("")}`;
  return `\n${table}\n${rows("only in the live table", onlyLive)}${rows("only in the replay", onlyReplayed)}`;
}

await cli.exitWith(main);
