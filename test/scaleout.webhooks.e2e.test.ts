import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { graphqlAt as graphql, signInAt } from "./testkit/remoteGraphql.ts";
import { createReplicaDatabase } from "./testkit/replicaDatabase.ts";
import { createReplicaSet } from "./testkit/replicas.ts";
import { until } from "./testkit/until.ts";

/**
 * Coffer scaled out as in production: one `api` process and two `worker` processes (real
 * `server/src/main.ts` processes) on one PostgreSQL. Webhook delivery must have one
 * deliverer per subscription at a time, and survive the delivering worker being killed.
 */
const LEASE_MS = 1500;
const database = await createReplicaDatabase("coffer_scaleout");
const replicas = createReplicaSet({
  database,
  env: { WEBHOOKS_ALLOW_LOOPBACK_HTTP: "true", WEBHOOK_LEASE_MS: String(LEASE_MS) },
});

/**
 * A slow receiver on loopback. It counts requests in flight per position (a request is in
 * flight until answered or its connection drops) and can be told to hold one position
 * without answering, as a receiver that is still working when its sender dies.
 */
async function startReceiver() {
  const inFlight = new Map<string, number>();
  const accepted: string[] = [];
  const overlaps: string[] = [];
  // The n-th distinct event to arrive is held (set before any is sent: on a busy machine
  // the workers may deliver everything before a test could name a position).
  let holdNth: number | undefined;
  const seen: string[] = [];
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
      if (!seen.includes(position)) seen.push(position);
      if (held === undefined && seen.length === holdNth && seen.at(-1) === position) {
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
    holdNth: (n: number) => (holdNth = n),
    held: () => held,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

afterAll(async () => {
  await replicas.stop();
  await database.drop();
}, 30_000);

describe("webhooks on scaled-out replicas", () => {
  it("never deliver one position twice at once, and lose none when the delivering worker is killed", async () => {
    const api = await replicas.start("api");
    const workers = [await replicas.start("worker"), await replicas.start("worker")];
    // A worker answers health checks and nothing else.
    expect((await fetch(`${workers[0]!.origin}/healthz`)).status).toBe(200);
    expect((await fetch(`${workers[0]!.origin}/readyz`)).status).toBe(200);
    expect((await fetch(`${workers[0]!.origin}/graphql`, { method: "POST" })).status).toBe(404);

    const { cookie } = await signInAt(api.origin, replicas.admin, api.output);
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
      { cookie },
    );
    const org = viewer.body.data.viewer.organizations[0];
    const workspaceId: string = org.workspaces.edges[0].node.id;

    const receiver = await startReceiver();
    // Hold the fifth event unanswered, find which worker holds the lease, and kill it.
    receiver.holdNth(5);
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
      { cookie },
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
        { cookie },
      );
      expect(declared.body.data.declareEnvironment.__typename).toBe(
        "MutationDeclareEnvironmentSuccess",
      );
    }
    const expected = (
      await database.sql<{ position: string }>(
        `SELECT e.position::text FROM events e JOIN webhook_subscriptions s ON s.organization_id = e.organization_id
         WHERE e.position >= (SELECT min(position) FROM events x WHERE x.organization_id = s.organization_id AND x.type = 'WebhookSubscriptionCreated')
         ORDER BY e.position`,
      )
    ).map((r) => r.position);
    expect(expected.length).toBe(13);

    await until(
      () => receiver.held() !== undefined,
      () => `no worker reached the fifth event; accepted ${receiver.accepted.join(",")}`,
    );
    expect(receiver.held()).toBe(expected[4]); // delivered in order: the fifth is the fifth
    const [lease] = await database.sql<{ lease_owner: string | null }>(
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
        const [row] = await database.sql<{ cursor: string; lease_owner: string | null }>(
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
