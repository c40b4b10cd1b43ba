import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../server/src/net/freePort.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const webDir = path.join(repoRoot, "web");

/**
 * Builds the console unless `web/.next` is newer than every source file of it. CI builds it
 * just before the tests (so this is a no-op there); locally it keeps a stale build from
 * being tested.
 */
export function ensureConsoleBuilt(): { built: boolean; ms: number } {
  const started = Date.now();
  const buildId = path.join(webDir, ".next", "BUILD_ID");
  const builtAt = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  const sources = ["app", "components", "lib", "next.config.ts", "tsconfig.json"].flatMap((p) =>
    newestFiles(path.join(webDir, p)),
  );
  if (builtAt && sources.every((mtime) => mtime <= builtAt)) return { built: false, ms: 0 };
  const result = spawnSync(process.execPath, [require_next(), "build", webDir], {
    cwd: repoRoot,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    encoding: "utf8",
  });
  if (result.status !== 0)
    throw new Error(`next build failed:\n${result.stdout}\n${result.stderr}`.slice(-8000));
  return { built: true, ms: Date.now() - started };
}

function require_next(): string {
  return path.join(repoRoot, "node_modules", "next", "dist", "bin", "next");
}

function newestFiles(target: string): number[] {
  if (!existsSync(target)) return [];
  const stat = statSync(target);
  if (!stat.isDirectory()) return [stat.mtimeMs];
  return readdirSync(target).flatMap((name) => newestFiles(path.join(target, name)));
}

/** The developer's environment without Coffer's own settings, so the test decides them. */
function cleanEnv(): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(
    ([key]) =>
      !/^(VAULT_|COFFER_|DATABASE_|EMBEDDED_POSTGRES_|PORT$|HOST$|LOG_LEVEL$|CONSOLE_ENABLED$|PUBLIC_URL$|NODE_ENV$)/.test(
        key,
      ),
  );
  return Object.fromEntries(kept) as NodeJS.ProcessEnv;
}

export type RunningCoffer = {
  origin: string;
  output: () => string;
  stop: () => Promise<void>;
};

/**
 * `npm start` as a user runs it — its own process group, an embedded PostgreSQL in a fresh
 * data directory, the console served on the same origin — with a known first-run login.
 */
export async function startCoffer(
  admin: { email: string; password: string },
  extraEnv: Record<string, string> = {},
): Promise<RunningCoffer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "coffer-console-"));
  chmodSync(dataDir, 0o755);
  const port = await freePort();
  const child: ChildProcess = spawn("npm", ["start", "--silent"], {
    cwd: repoRoot,
    env: {
      ...cleanEnv(),
      COFFER_DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      COFFER_ADMIN_EMAIL: admin.email,
      COFFER_ADMIN_PASSWORD: admin.password,
      LOG_LEVEL: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const keep = (chunk: unknown) => {
    output = (output + String(chunk)).slice(-200_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const origin = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      // Ctrl-C: the whole group (npm, the server, PostgreSQL) shuts down cleanly.
      signalGroup(child, "SIGINT");
      const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000));
      if ((await Promise.race([exited, timeout])) === "timeout") signalGroup(child, "SIGKILL");
    }
    stopLeftoverPostgres(dataDir);
    for (let i = 0; i < 50 && postgresRunning(dataDir); i++) await sleep(100);
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not serve the console:\n${output}`);
      if (output.includes("Coffer first run") && (await consoleReady(origin))) break;
      await sleep(200);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, output: () => output, stop };
}

async function consoleReady(origin: string): Promise<boolean> {
  try {
    const response = await fetch(`${origin}/`);
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

function postgresPid(dataDir: string): number | undefined {
  const pidFile = path.join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  return Number(readFileSync(pidFile, "utf8").split("\n")[0]);
}

function postgresRunning(dataDir: string): boolean {
  const pid = postgresPid(dataDir);
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function stopLeftoverPostgres(dataDir: string) {
  const pid = postgresPid(dataDir);
  if (!pid) return;
  try {
    process.kill(pid, "SIGINT");
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
