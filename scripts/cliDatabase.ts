// How a command-line script reaches Coffer's database the way `npm start` does: DATABASE_URL
// (and DATABASE_ADMIN_URL), or the embedded PostgreSQL in COFFER_DATA_DIR, connecting to it
// when `npm start` already runs it and starting it otherwise (then `close()` stops it).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { Config } from "../server/src/config.ts";
import { fallbackDataRoot, startEmbeddedPostgres } from "../server/src/db/embeddedPostgres.ts";
import { withDatabase } from "../server/src/db/migrate.ts";

/** What main.ts names its login in the `coffer_app` role, and where it keeps its password. */
const APP_LOGIN_USER = "coffer_app_login";
const APP_PASSWORD_FILE = "app-db-password";
/** The embedded server's superuser, and where embeddedPostgres.ts keeps its password. */
const SUPERUSER = "postgres";
const SUPERUSER_PASSWORD_FILE = "postgres-superuser-password";

/** A failure explained by its message alone (no stack trace). */
export class Failure extends Error {}

/**
 * Which login the script needs: "app", the app's own login, which may read the events but
 * never change them; "admin", also the embedded server's superuser (or DATABASE_ADMIN_URL,
 * the owner login), e.g. to create and drop a scratch database.
 */
export type CliLogin = "app" | "admin";

export type CliDatabase = {
  /** Coffer's database, as the app's login. */
  url: string;
  /** Stops the embedded PostgreSQL when this script started it. */
  close(): Promise<void>;
};
export type CliAdminDatabase = CliDatabase & {
  /** The `postgres` database of the same server, as the admin login. */
  serverAdminUrl: string;
};

type Options = {
  /** For "starting the embedded PostgreSQL in … for <purpose>", e.g. "the export". */
  purpose: string;
  /** Called just before this script starts the embedded PostgreSQL itself. */
  onStartServer?: () => void;
};

/**
 * The database `npm start` uses. With the embedded PostgreSQL, only one server may run
 * on the data directory, and starting a second one would stop the first (embeddedPostgres.ts
 * treats it as left over by a crash). So: when `npm start` (or an earlier, killed run) already
 * runs it, connect to it — its port is in postmaster.pid — with the app's own login, which
 * may read the events but never change them (and, for "admin", the superuser); otherwise
 * start it for the script and stop it afterwards. An `npm start` begun meanwhile takes the
 * database over and the script fails; run it again.
 */
export async function openDatabase(
  config: Config,
  options: Options & { login: "app" },
): Promise<CliDatabase>;
export async function openDatabase(
  config: Config,
  options: Options & { login: "admin" },
): Promise<CliAdminDatabase>;
export async function openDatabase(
  config: Config,
  options: Options & { login: CliLogin },
): Promise<CliDatabase | CliAdminDatabase> {
  const admin = options.login === "admin";
  if (config.database.kind === "external") {
    const url = config.database.url;
    const close = async () => undefined;
    return admin
      ? { url, serverAdminUrl: withDatabase(config.database.adminUrl, "postgres"), close }
      : { url, close };
  }
  const passwordFile = path.join(config.dataDir, APP_PASSWORD_FILE);
  if (!existsSync(passwordFile)) {
    throw new Failure(
      `No Coffer database in ${config.dataDir} yet (\`npm start\` creates it). Set COFFER_DATA_DIR, or DATABASE_URL for an external PostgreSQL.`,
    );
  }
  const login = { user: APP_LOGIN_USER, password: readFileSync(passwordFile, "utf8").trim() };
  const superuserFile = superuserPasswordFile(config.database.dir);
  if (admin && !existsSync(superuserFile)) {
    throw new Failure(
      `No password of the embedded PostgreSQL's superuser in ${superuserFile}: is ${config.dataDir} the data directory \`npm start\` uses?`,
    );
  }
  const superuser = admin
    ? { user: SUPERUSER, password: readFileSync(superuserFile, "utf8").trim() }
    : undefined;

  const running = runningServer(config.database.dir);
  const port = running?.port ?? config.database.port;
  const server = `postgresql://127.0.0.1:${port}/postgres`;
  const url = withDatabase(server, "coffer", login);
  if (await accepts(url, "app")) {
    const serverAdminUrl = superuser && withDatabase(server, "postgres", superuser);
    if (serverAdminUrl && !(await accepts(serverAdminUrl, "admin"))) {
      throw new Failure(
        `The PostgreSQL on port ${port} stopped accepting connections: it may be stopping. Try again in a moment.`,
      );
    }
    process.stderr.write(
      `using the embedded PostgreSQL that is already running on port ${port}${running ? ` (pid ${running.pid}, probably \`npm start\`)` : ""}\n`,
    );
    const close = async () => undefined;
    return serverAdminUrl ? { url, serverAdminUrl, close } : { url, close };
  }
  if (running) {
    throw new Failure(
      `PostgreSQL (pid ${running.pid}) holds ${config.database.dir} but refuses connections on port ${port}: it may be starting or stopping. Try again in a moment.`,
    );
  }
  process.stderr.write(
    `starting the embedded PostgreSQL in ${config.database.dir} for ${options.purpose}\n`,
  );
  options.onStartServer?.();
  const started = await startEmbeddedPostgres({
    dir: config.database.dir,
    port: config.database.port,
    persistent: true,
    log: {
      info: () => undefined,
      warn: (details, message) =>
        void process.stderr.write(`${message} ${JSON.stringify(details)}\n`),
    },
  });
  const opened = {
    url: withDatabase(started.adminUrl, "coffer", login),
    // Bounded: a PostgreSQL that the terminal's Ctrl-C stopped first never reports its exit.
    close: () =>
      Promise.race([started.stop(), new Promise<void>((resolve) => setTimeout(resolve, 5000))]),
  };
  return admin ? { ...opened, serverAdminUrl: started.adminUrl } : opened;
}

/**
 * Where embeddedPostgres.ts keeps the superuser's password: beside the cluster, which is in
 * the data directory, or — as root, when the postgres user cannot reach the data directory —
 * in its fallback under the temp directory (the same name as its `fallbackDataDir`).
 */
function superuserPasswordFile(dir: string): string {
  const beside = path.join(path.dirname(dir), SUPERUSER_PASSWORD_FILE);
  if (existsSync(beside)) return beside;
  const fallback = path.join(fallbackDataRoot(dir), SUPERUSER_PASSWORD_FILE);
  return existsSync(fallback) ? fallback : beside;
}

/** The live server that holds `dir`, from its postmaster.pid (pid, data dir, start, port, …). */
function runningServer(dir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return null; // not running
  }
  return { pid, port };
}

/**
 * Whether a server accepts the login at `url`: false when nothing listens there;
 * any other failure is explained, since the script cannot go on.
 */
async function accepts(url: string, login: CliLogin): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ECONNREFUSED") return false;
    const where = new URL(url).port;
    const database = decodeURIComponent(new URL(url).pathname.slice(1));
    throw new Failure(
      code === "28P01"
        ? `The PostgreSQL on port ${where} refused Coffer's ${login === "app" ? "app" : "superuser"} login from this data directory: is it another server? Check COFFER_DATA_DIR and EMBEDDED_POSTGRES_PORT.`
        : code === "3D000"
          ? `The PostgreSQL on port ${where} has no "${database}" database: start Coffer once with \`npm start\`.`
          : `Cannot connect to the embedded PostgreSQL on port ${where}: ${(error as Error).message}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
