// `npm run projections:check`: replays the whole event log into a scratch database on the
// same PostgreSQL server (created and dropped by the admin login: the embedded superuser, or
// DATABASE_ADMIN_URL) and compares its projections with the live ones, read with the app's
// login. Reaches the database the way `npm start` does (see cliDatabase.ts). Rows written
// while it runs may show up as differences: run it again, or while Coffer is idle.
// Exit codes: 0 the projections match, 1 they differ or the check failed, 2 usage or
// configuration error.
import { constants } from "node:os";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "../server/src/config.ts";
import { createPrismaClient } from "../server/src/db/database.ts";
import type { ProjectionDifference } from "../server/src/projections/compare.ts";
import { rebuildAndCompare } from "../server/src/projections/rebuild.ts";
import { Failure, openDatabase } from "./cliDatabase.ts";

const USAGE = `Usage: npm run projections:check

Replays every event into a scratch database and compares the projections with the live
tables. Needs a login that may create databases: the embedded PostgreSQL's superuser, or
DATABASE_ADMIN_URL with an external PostgreSQL.
`;

/** A problem with how the check was set up rather than with the projections (exit 2). */
class ConfigurationFailure extends Failure {}

const cleanups: (() => Promise<void>)[] = [];
/** Whether this run started the embedded PostgreSQL (and `npm start` could take it over). */
let startedServer = false;

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
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const database = await openDatabase(config, {
    login: "admin",
    purpose: "the check",
    onStartServer: () => {
      startedServer = true;
    },
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

async function cleanUp(): Promise<void> {
  for (const step of cleanups.splice(0)) await step().catch(() => undefined);
}

/**
 * Ctrl-C or SIGTERM: stop after the step under way (PostgreSQL's start, the replay, which
 * drops its scratch database), then clean up: no PostgreSQL left running. A second signal
 * exits at once.
 */
let interrupted: NodeJS.Signals | null = null;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(128 + constants.signals[signal]);
    interrupted = signal;
    process.stderr.write(`${signal}: stopping after the step under way\n`);
  });
}
function stopIfInterrupted(): void {
  if (interrupted) throw new Failure(`interrupted (${interrupted})`);
}

let code: number;
try {
  code = await main();
} catch (error) {
  process.stderr.write(
    error instanceof Failure
      ? `${error.message}\n`
      : `projections check failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` +
          (startedServer && !interrupted
            ? "If `npm start` was started meanwhile, it took the embedded database over: run the check again.\n"
            : ""),
  );
  code = error instanceof ConfigurationFailure ? 2 : 1;
}
await cleanUp();
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
process.exit(interrupted ? 128 + constants.signals[interrupted] : code);
