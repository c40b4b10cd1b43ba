import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { listMigrations, withDatabase } from "../server/src/db/migrate.ts";
import { freePort } from "../server/src/net/freePort.ts";

/**
 * `npm start` as a user runs it: a real process, an embedded PostgreSQL in a data
 * directory, the first-run login on stdout, a second start that reuses the data.
 */
const dataDir = mkdtempSync(path.join(os.tmpdir(), "coffer-start-"));
chmodSync(dataDir, 0o755);
const running = new Set<ChildProcess>();
afterAll(async () => {
  // Whole process groups: npm, the server under it and its PostgreSQL, even if a test failed midway.
  for (const child of running) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await stopLeftover();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The developer's environment without Coffer's own settings, so the test decides them. */
function cleanEnv(): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(
    ([key]) =>
      !/^(VAULT_|COFFER_|DATABASE_|EMBEDDED_POSTGRES_|PORT$|HOST$|LOG_LEVEL$|CONSOLE_ENABLED$)/.test(
        key,
      ),
  );
  return Object.fromEntries(kept) as NodeJS.ProcessEnv;
}

type Started = { child: ChildProcess; output: () => string; origin: string };

async function start(pgPort: number): Promise<Started> {
  const port = await freePort();
  const child = spawn("npm", ["start", "--silent"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: {
      ...cleanEnv(),
      COFFER_DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      CONSOLE_ENABLED: "false",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += String(chunk)));
  child.stderr!.on("data", (chunk) => (output += String(chunk)));
  const deadline = Date.now() + 40_000;
  while (!output.includes('"msg":"Coffer is ready"')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`npm start did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // No wait after "ready": the first-run owner exists and its login is printed by then.
  return { child, output: () => output, origin: `http://127.0.0.1:${port}` };
}

/** Ctrl-C in a terminal: SIGINT to the whole process group (npm, node and PostgreSQL). */
async function interrupt(started: Started): Promise<void> {
  // "close", not "exit": npm may exit before the server's last lines reach the pipe, which
  // stays open until every process writing to it (the server too) has exited.
  const exited = new Promise<void>((resolve) => started.child.once("close", () => resolve()));
  process.kill(-started.child.pid!, "SIGINT");
  await exited;
  running.delete(started.child);
}

/** A supervisor (systemd, `timeout`, Docker's init): SIGTERM to npm alone. */
async function terminate(started: Started): Promise<void> {
  const exited = new Promise<void>((resolve) => started.child.once("exit", () => resolve()));
  started.child.kill("SIGTERM");
  await exited;
  running.delete(started.child);
  // npm exits as soon as it has passed the signal on; wait for the server's own shutdown.
  for (let i = 0; i < 100 && postgresRunning(); i++) await new Promise((r) => setTimeout(r, 100));
}

/** A crash: SIGKILL to every process of the group except PostgreSQL, which stays behind. */
async function crash(started: Started): Promise<void> {
  const exited = new Promise<void>((resolve) => started.child.once("exit", () => resolve()));
  const ps = spawnSync("ps", ["-o", "pid=,comm=", "-g", String(started.child.pid)], {
    encoding: "utf8",
  });
  for (const line of ps.stdout.trim().split("\n")) {
    const [pid, comm] = line.trim().split(/\s+/);
    if (pid && comm !== "postgres") process.kill(Number(pid), "SIGKILL");
  }
  await exited;
  running.delete(started.child);
}

function postgresRunning(): boolean {
  const pidFile = path.join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, "utf8").split("\n")[0]), 0);
    return true;
  } catch {
    return false;
  }
}

async function stopLeftover() {
  const pidFile = path.join(dataDir, "postgres", "postmaster.pid");
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8").split("\n")[0]), "SIGINT");
    } catch {
      // already gone
    }
  }
}

async function graphql(origin: string, query: string, variables: object = {}, cookie?: string) {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { response, body: (await response.json()) as { data: any; errors?: unknown[] } };
}

async function signIn(origin: string, email: string, password: string) {
  const { response, body } = await graphql(
    origin,
    `
      mutation ($i: SignInInput!) {
        signIn(input: $i) {
          __typename
        }
      }
    `,
    { i: { email, password } },
  );
  expect(body.data.signIn.__typename).toBe("MutationSignInSuccess");
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

describe("npm start", () => {
  it("starts on an embedded PostgreSQL, prints the first-run login once, and reuses the data", async () => {
    const pgPort = await freePort();
    const first = await start(pgPort);
    const email = /Email:\s+(\S+)/.exec(first.output())?.[1];
    const password = /Password:\s+(\S+)/.exec(first.output())?.[1];
    expect(email).toBe("admin@coffer.local");
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);

    expect(await (await fetch(`${first.origin}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${first.origin}/readyz`)).json()).toEqual({ status: "ready" });
    const echoed = await fetch(`${first.origin}/healthz`, {
      headers: { "x-request-id": "abc-123" },
    });
    expect(echoed.headers.get("x-request-id")).toBe("abc-123");

    const cookie = await signIn(first.origin, email!, password!);
    const orgs = await graphql(
      first.origin,
      `
        {
          viewer {
            organizations {
              name
              workspaces {
                edges {
                  node {
                    name
                    environments {
                      name
                    }
                  }
                }
              }
            }
          }
        }
      `,
      {},
      cookie,
    );
    expect(orgs.body.data.viewer.organizations).toEqual([
      {
        name: "My organization",
        workspaces: {
          edges: [{ node: { name: "Default workspace", environments: [{ name: "default" }] } }],
        },
      },
    ]);
    // The password appears once, in the banner, never in a structured log line.
    expect(first.output().split(password!).length - 1).toBe(1);
    expect(first.output()).not.toContain(cookie.split("=")[1]!);
    await interrupt(first);
    expect(first.output()).toContain('"msg":"shutting down"');
    expect(first.output()).not.toContain("shutdown step failed");
    expect(postgresRunning()).toBe(false);

    const second = await start(pgPort);
    expect(second.output()).not.toContain("first run");
    expect(second.output()).toContain(`"applied":[],"alreadyApplied":${listMigrations().length}`);
    await signIn(second.origin, email!, password!);

    // A killed process leaves PostgreSQL running; the next start detects and stops it.
    await crash(second);
    expect(postgresRunning()).toBe(true);
    const third = await start(pgPort);
    expect(third.output()).toMatch(/left running by a previous run/);
    await signIn(third.origin, email!, password!);
    await terminate(third);
    expect(postgresRunning()).toBe(false);
  }, 120_000);

  it("uses the PostgreSQL named by DATABASE_URL, migrating with DATABASE_ADMIN_URL", async () => {
    const serverUrl = inject("pgAdminUrl");
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query("CREATE DATABASE coffer_external");
    await admin.end();
    const adminUrl = withDatabase(serverUrl, "coffer_external");
    const appUrl = withDatabase(serverUrl, "coffer_external", {
      user: "coffer_external_app",
      password: "external-app-password",
    });
    const port = await freePort();
    const externalDataDir = path.join(dataDir, "external-unused");
    const child = spawn("npm", ["start", "--silent"], {
      cwd: path.resolve(import.meta.dirname, ".."),
      env: {
        ...cleanEnv(),
        COFFER_DATA_DIR: externalDataDir,
        PORT: String(port),
        DATABASE_URL: appUrl,
        DATABASE_ADMIN_URL: adminUrl,
        CONSOLE_ENABLED: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    running.add(child);
    let output = "";
    child.stdout!.on("data", (c) => (output += String(c)));
    child.stderr!.on("data", (c) => (output += String(c)));
    for (let i = 0; i < 300 && !output.includes("Password:"); i++)
      await new Promise((r) => setTimeout(r, 100));
    const password = /Password:\s+(\S+)/.exec(output)?.[1];
    expect(password, output).toBeDefined();
    await signIn(`http://127.0.0.1:${port}`, "admin@coffer.local", password!);
    // No embedded PostgreSQL was started (the data directory only holds the transit master key).
    expect(existsSync(path.join(externalDataDir, "postgres"))).toBe(false);
    expect(existsSync(path.join(externalDataDir, "transit-master.key"))).toBe(true);
    // The app's login got coffer_app's rights and nothing more: it cannot rewrite events.
    const app = new pg.Client({ connectionString: appUrl });
    await app.connect();
    await expect(app.query("DELETE FROM events")).rejects.toThrow(/permission denied/);
    await app.end();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    running.delete(child);
  }, 60_000);

  it("reports every configuration problem at once and exits non-zero", async () => {
    const child = spawn("npm", ["start", "--silent"], {
      cwd: path.resolve(import.meta.dirname, ".."),
      env: {
        ...cleanEnv(),
        PORT: "nope",
        DATABASE_URL: "mysql://x",
        COFFER_ADMIN_EMAIL: "a@b.test",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr!.on("data", (c) => (output += String(c)));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).not.toBe(0);
    expect(output).toContain("PORT");
    expect(output).toContain("DATABASE_URL");
  }, 30_000);
});
