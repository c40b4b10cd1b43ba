// `npm start` to ready, first start (fresh data directory: initdb, migrations, first-run
// owner) and second start (existing data), a few runs each:
//   npx tsx bench/start.ts [--runs 3] [--console]
// Spawns what `npm start` execs (node --import tsx server/src/main.ts) with a fresh COFFER_DATA_DIR and
// free ports, and times from spawn to the "Coffer is ready" log line, to /readyz answering
// 200, and the in-process time main.ts itself logs (from its first line, so without Node's
// and tsx's startup). The console is disabled unless --console is given; then the time to
// "admin console ready" is measured too (it needs an existing build, web/.next: a build
// would be another benchmark and would write into the shared web/ folder). Each start is
// stopped with SIGTERM, as a supervisor would, and must stop its PostgreSQL.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { freePort } from "../server/src/net/freePort.ts";
import { runBench } from "./runBench.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const READY_TIMEOUT_MS = 120_000;

type Timing = { logLine: number; readyz: number; inProcess: number; console: number | null };

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      console: { type: "boolean", default: false },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  return { runs, console: values.console };
}

/** The developer's environment without Coffer's own settings, so this script decides them. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !/^(VAULT_|COFFER_|DATABASE_|EMBEDDED_POSTGRES_|PORT$|HOST$|LOG_LEVEL$|CONSOLE_ENABLED$|PUBLIC_URL$)/.test(
          key,
        ),
    ),
  ) as NodeJS.ProcessEnv;
}

async function startOnce(
  dataDir: string,
  pgPort: number,
  withConsole: boolean,
  first: boolean,
): Promise<Timing> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "server/src/main.ts"], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      COFFER_DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      CONSOLE_ENABLED: withConsole ? "true" : "false",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a failed run can be cleaned up whole (node and PostgreSQL).
    detached: true,
  });
  let output = "";
  const at: { logLine?: number; console?: number } = {};
  const onData = (chunk: Buffer) => {
    output += String(chunk);
    if (at.logLine === undefined && output.includes('"msg":"Coffer is ready"'))
      at.logLine = performance.now() - started;
    if (at.console === undefined && output.includes('"msg":"admin console ready"'))
      at.console = performance.now() - started;
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const measure = async (): Promise<Timing> => {
    let readyz: number | undefined;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (readyz === undefined) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the server did not become ready:\n${output}`);
      try {
        const response = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (response.status === 200) readyz = performance.now() - started;
        else await response.arrayBuffer();
      } catch {
        // not listening yet
      }
      if (readyz === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    // The log line is written just before /readyz can answer; wait for both (and the
    // first-run owner, created right after "ready"), so the second start finds complete data.
    while (
      at.logLine === undefined ||
      (withConsole && at.console === undefined) ||
      (first && !output.includes("Coffer first run"))
    ) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the server did not finish starting:\n${output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyLine = output.split("\n").find((line) => line.includes('"msg":"Coffer is ready"'))!;
    const inProcess = (JSON.parse(readyLine) as { ms: number }).ms;
    return { logLine: at.logLine, readyz, inProcess, console: at.console ?? null };
  };
  const result = await measure().then(
    (timing) => ({ timing }),
    (error: unknown) => ({ error }),
  );

  child.kill("SIGTERM");
  const stopped = await Promise.race([
    exited.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 30_000)),
  ]);
  if (!stopped || postgresRunning(dataDir)) {
    killGroup(child);
    throw new Error(`SIGTERM did not stop the server and its PostgreSQL:\n${output}`);
  }
  if ("error" in result) throw result.error;
  return result.timing;
}

function postgresRunning(dataDir: string): boolean {
  const pidFile = path.join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, "utf8").split("\n")[0]), 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // already gone
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const { runs, console: withConsole } = options();
  if (withConsole && !existsSync(path.join(ROOT, "web/.next/BUILD_ID")))
    throw new Error("--console needs a built console: run `npm run web:build` first");
  const firsts: Timing[] = [];
  const seconds: Timing[] = [];
  for (let run = 1; run <= runs; run++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "coffer-bench-start-"));
    chmodSync(dataDir, 0o755); // as root, the postgres OS user must reach the data directory
    try {
      const pgPort = await freePort();
      firsts.push(await startOnce(dataDir, pgPort, withConsole, true));
      seconds.push(await startOnce(dataDir, pgPort, withConsole, false));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  const ms = (n: number) => `${Math.round(n)} ms`;
  const describe = (label: string, timings: Timing[]) => {
    const pick = (f: (t: Timing) => number) => timings.map(f);
    const all = (f: (t: Timing) => number) => pick(f).map(ms).join(", ");
    process.stdout.write(`${label} (median of ${timings.length}):\n`);
    process.stdout.write(
      `  spawn → "Coffer is ready" log line: ${ms(median(pick((t) => t.logLine)))}   [${all((t) => t.logLine)}]\n`,
    );
    process.stdout.write(
      `  spawn → /readyz 200:                ${ms(median(pick((t) => t.readyz)))}   [${all((t) => t.readyz)}]\n`,
    );
    process.stdout.write(
      `  inside main.ts (as it logs "ms"):   ${ms(median(pick((t) => t.inProcess)))}   [${all((t) => t.inProcess)}]\n`,
    );
    if (withConsole)
      process.stdout.write(
        `  spawn → "admin console ready":      ${ms(median(pick((t) => t.console!)))}   [${all((t) => t.console!)}]\n`,
      );
  };
  process.stdout.write(
    `node --import tsx server/src/main.ts, embedded PostgreSQL, LocalTransit, console ${withConsole ? "enabled (prebuilt)" : "disabled"}\n`,
  );
  describe("first start: fresh data directory (initdb, migrations, first-run owner)", firsts);
  describe("second start: existing data directory", seconds);
}

runBench(main);
