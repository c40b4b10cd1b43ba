import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { withDatabase } from "../server/src/db/migrate.ts";
import { freePort } from "../server/src/net/freePort.ts";

/**
 * Coffer scaled out as in production: one `api` process and two `worker` processes (real
 * `server/src/main.ts` processes) on one PostgreSQL. Webhook delivery must have one
 * deliverer per subscription at a time, and survive the delivering worker being killed.
 */
const root = path.resolve(import.meta.dirname, "..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "coffer-scaleout-"));
chmodSync(dataDir, 0o755);
const database = `coffer_scaleout_${randomBytes(4).toString("hex")}`;
const serverUrl = inject("pgAdminUrl");
const adminUrl = withDatabase(serverUrl, database);
const appUrl = withDatabase(serverUrl, database, {
  user: "coffer_scaleout_app",
  password: "scaleout-app-password",
});
const admin = { email: "owner@scaleout.test", password: "scaleout-owner-password" };
const masterKey = randomBytes(32).toString("base64");
const LEASE_MS = 1500;

type Replica = { child: ChildProcess; origin: string; output: () => string };
const replicas: Replica[] = [];

/** The developer's environment without Coffer's own settings, so the test decides them. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !/^(VAULT_|COFFER_|DATABASE_|EMBEDDED_POSTGRES_|WEBHOOK|PORT$|HOST$|LOG_LEVEL$|CONSOLE_ENABLED$)/.test(
          key,
        ),
    ),
  ) as NodeJS.ProcessEnv;
}

/** One replica: node itself (no npm, no tsx wrapper), so SIGKILL hits the server process. */
async function startReplica(role: "api" | "worker"): Promise<Replica> {
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
      DATABASE_URL: appUrl,
      DATABASE_ADMIN_URL: adminUrl,
      HOST: "127.0.0.1",
      PORT: String(port),
      CONSOLE_ENABLED: "false",
      LOG_LEVEL: "info",
      WEBHOOKS_ALLOW_LOOPBACK_HTTP: "true",
      WEBHOOK_LEASE_MS: String(LEASE_MS),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += String(chunk)));
  child.stderr!.on("data", (chunk) => (output += String(chunk)));
  const replica = { child, origin: `http://127.0.0.1:${port}`, output: () => output };
  replicas.push(replica);
  await until(
    () => output.includes('"msg":"Coffer is ready"'),
    () => `${role} did not become ready:\n${output}`,
    () => child.exitCode === null,
  );
  return replica;
}

/** Polls `done` every 50 ms, for at most 400 rounds (and while `alive` holds). */
async function until(
  done: () => boolean | Promise<boolean>,
  why: () => string,
  alive: () => boolean = () => true,
): Promise<void> {
  for (let round = 0; round < 400; round++) {
    if (await done()) return;
    if (!alive()) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(why());
}

async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function graphql(origin: string, query: string, variables: object, cookie?: string) {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { response, body: (await response.json()) as { data: any; errors?: unknown[] } };
}

/**
 * A slow receiver on loopback. It counts requests in flight per position (a request is in
 * flight until answered or its connection drops) and can be told to hold one position
 * without answering, as a receiver that is still working when its sender dies.
 */
async function startReceiver() {
  const inFlight = new Map<string, number>();
  const accepted: string[] = [];
  const overlaps: string[] = [];
  let hold: string | undefined;
  let held: string | undefined;
  const server = http.createServer((req, res) => {
    const position = String(req.headers["x-coffer-event-id"]);
    inFlight.set(position, (inFlight.get(position) ?? 0) + 1);
    if (inFlight.get(position)! > 1) overlaps.push(position);
    let open = true;
    const finish = () => {
      if (!open) return;
      open = false;
      inFlight.set(position, inFlight.get(position)! - 1);
    };
    res.on("close", finish);
    req.resume();
    req.on("end", () => {
      if (hold === position && held === undefined) {
        held = position;
        return; // never answered: the sender is killed while this is in flight
      }
      setTimeout(() => {
        finish();
        accepted.push(position);
        res.writeHead(204).end();
      }, 30);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    accepted,
    overlaps,
    holdPosition: (position: string) => (hold = position),
    held: () => held,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${database}`);
  await client.end();
}, 30_000);

afterAll(async () => {
  for (const { child } of replicas) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(
    replicas.map(
      ({ child }) =>
        new Promise<void>((resolve) =>
          child.exitCode !== null || child.signalCode !== null
            ? resolve()
            : child.once("exit", () => resolve()),
        ),
    ),
  );
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await client.end();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("webhooks on scaled-out replicas", () => {
  it("never deliver one position twice at once, and lose none when the delivering worker is killed", async () => {
    const api = await startReplica("api");
    const workers = [await startReplica("worker"), await startReplica("worker")];
    // A worker answers health checks and nothing else.
    expect((await fetch(`${workers[0]!.origin}/healthz`)).status).toBe(200);
    expect((await fetch(`${workers[0]!.origin}/readyz`)).status).toBe(200);
    expect((await fetch(`${workers[0]!.origin}/graphql`, { method: "POST" })).status).toBe(404);

    let cookie = "";
    await until(
      async () => {
        const { response, body } = await graphql(
          api.origin,
          `
            mutation ($i: SignInInput!) {
              signIn(input: $i) {
                __typename
              }
            }
          `,
          { i: admin },
        );
        if (body.data?.signIn?.__typename !== "MutationSignInSuccess") return false;
        cookie = response.headers.get("set-cookie")!.split(";")[0]!;
        return true;
      },
      () => `the first-run owner could not sign in:\n${api.output()}`,
    );
    const viewer = await graphql(
      api.origin,
      `
        {
          viewer {
            organizations {
              id
              workspaces {
                edges {
                  node {
                    id
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
    const org = viewer.body.data.viewer.organizations[0];
    const workspaceId: string = org.workspaces.edges[0].node.id;

    const receiver = await startReceiver();
    const created = await graphql(
      api.origin,
      `
        mutation ($i: CreateWebhookSubscriptionInput!) {
          createWebhookSubscription(input: $i) {
            __typename
            ... on Error {
              message
            }
          }
        }
      `,
      { i: { organizationId: org.id, url: receiver.url } },
      cookie,
    );
    expect(created.body.data.createWebhookSubscription.__typename).toBe(
      "MutationCreateWebhookSubscriptionSuccess",
    );
    for (let i = 0; i < 12; i++) {
      const declared = await graphql(
        api.origin,
        `
          mutation ($i: EnvironmentInput!) {
            declareEnvironment(input: $i) {
              __typename
            }
          }
        `,
        { i: { workspaceId, name: `env-${i}` } },
        cookie,
      );
      expect(declared.body.data.declareEnvironment.__typename).toBe(
        "MutationDeclareEnvironmentSuccess",
      );
    }
    const expected = (
      await sql<{ position: string }>(
        `SELECT e.position::text FROM events e JOIN webhook_subscriptions s ON s.organization_id = e.organization_id
         WHERE e.position >= (SELECT min(position) FROM events x WHERE x.organization_id = s.organization_id AND x.type = 'WebhookSubscriptionCreated')
         ORDER BY e.position`,
      )
    ).map((r) => r.position);
    expect(expected.length).toBe(13);

    // Hold the fifth event unanswered, find which worker holds the lease, and kill it.
    receiver.holdPosition(expected[4]!);
    await until(
      () => receiver.held() !== undefined,
      () => `no worker reached the held event; accepted ${receiver.accepted.join(",")}`,
    );
    const [lease] = await sql<{ lease_owner: string | null }>(
      `SELECT lease_owner FROM webhook_subscriptions`,
    );
    const holderPid = Number(lease?.lease_owner?.split(":")[1]);
    const victim = workers.find((w) => w.child.pid === holderPid);
    expect(victim, `lease owner ${lease?.lease_owner} is not a worker`).toBeDefined();
    const died = new Promise<void>((resolve) => victim!.child.once("exit", () => resolve()));
    victim!.child.kill("SIGKILL");
    await died;

    // The survivor takes over once the dead worker's lease lapses and delivers the rest.
    await until(
      () => expected.every((p) => receiver.accepted.includes(p)),
      () =>
        `not every event arrived after the kill: accepted ${receiver.accepted.join(",")} of ${expected.join(",")}`,
    );
    expect(receiver.overlaps).toEqual([]);
    // In order: each event is accepted only after every earlier one (repeats allowed).
    const firsts = expected.map((p) => receiver.accepted.indexOf(p));
    expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
    const survivor = workers.find((w) => w !== victim)!;
    await until(
      async () => {
        const [row] = await sql<{ cursor: string; lease_owner: string | null }>(
          `SELECT cursor_position::text AS cursor, lease_owner FROM webhook_subscriptions`,
        );
        return row?.cursor === expected.at(-1);
      },
      () => "the cursor never reached the last event",
    );
    expect(survivor.output()).not.toContain('"level":50');
    expect(api.output()).not.toContain("webhook delivery");
    await receiver.close();
  }, 90_000);
});
