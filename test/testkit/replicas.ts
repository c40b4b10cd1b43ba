import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../server/src/net/freePort.ts";
import type { ReplicaDatabase } from "./replicaDatabase.ts";
import { until } from "./until.ts";

/** One real `server/src/main.ts` process. */
export type Replica = {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Everything it printed so far (pino's JSON lines). */
  output: () => string;
};

export type ReplicaSet = {
  /** The first-run owner every replica is configured with (the first one creates it). */
  admin: { email: string; password: string };
  /** Starts a replica and resolves once it logs "Coffer is ready". */
  start(role: "all" | "api" | "worker", env?: Record<string, string>): Promise<Replica>;
  /** SIGKILLs every replica still running, waits for them, removes their data directories. */
  stop(): Promise<void>;
};

/**
 * Coffer scaled out as in production: real processes (node itself, no npm or tsx wrapper,
 * so a SIGKILL hits the server) on one PostgreSQL, with one master key between them (the
 * embedded transit engine's keyrings live in that database) and the environment each test
 * gives on top of `env`.
 */
export function createReplicaSet(options: {
  database: ReplicaDatabase;
  env?: Record<string, string>;
}): ReplicaSet {
  const root = path.resolve(import.meta.dirname, "../..");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "coffer-replicas-"));
  chmodSync(dataDir, 0o755);
  const admin = { email: "owner@replicas.test", password: "replicas-owner-password" };
  const masterKey = randomBytes(32).toString("base64");
  const running: Replica[] = [];

  return {
    admin,
    async start(role, env = {}) {
      const port = await freePort();
      const child = spawn(process.execPath, ["--import", "tsx", "server/src/main.ts"], {
        cwd: root,
        env: {
          ...cleanEnv(),
          COFFER_ROLE: role,
          COFFER_DATA_DIR: path.join(dataDir, `${role}-${port}`),
          COFFER_MASTER_KEY: masterKey,
          COFFER_ADMIN_EMAIL: admin.email,
          COFFER_ADMIN_PASSWORD: admin.password,
          DATABASE_URL: options.database.appUrl,
          DATABASE_ADMIN_URL: options.database.adminUrl,
          HOST: "127.0.0.1",
          PORT: String(port),
          CONSOLE_ENABLED: "false",
          LOG_LEVEL: "info",
          ...options.env,
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout!.on("data", (chunk) => (output += String(chunk)));
      child.stderr!.on("data", (chunk) => (output += String(chunk)));
      const replica = { child, origin: `http://127.0.0.1:${port}`, output: () => output };
      running.push(replica);
      await until(
        () => output.includes('"msg":"Coffer is ready"'),
        () => `${role} did not become ready:\n${output}`,
        () => child.exitCode === null,
      );
      return replica;
    },
    async stop() {
      for (const { child } of running) if (child.exitCode === null) child.kill("SIGKILL");
      await Promise.all(
        running.map(
          ({ child }) =>
            new Promise<void>((resolve) =>
              child.exitCode !== null || child.signalCode !== null
                ? resolve()
                : child.once("exit", () => resolve()),
            ),
        ),
      );
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The developer's environment without Coffer's own settings, so the test decides them. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !/^(VAULT_|COFFER_|DATABASE_|EMBEDDED_POSTGRES_|WEBHOOK|OAUTH_|RATE_LIMIT_|AWS_STS_|PORT$|HOST$|LOG_LEVEL$|CONSOLE_ENABLED$|PUBLIC_URL$|TRUSTED_PROXIES$|SESSION_TTL_HOURS$|COOKIE_SECURE$)/.test(
          key,
        ),
    ),
  ) as NodeJS.ProcessEnv;
}
