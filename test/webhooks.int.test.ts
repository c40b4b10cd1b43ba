import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../server/src/logger.ts";
import { freePort } from "../server/src/net/freePort.ts";
import { createDispatcher } from "../server/src/webhooks/dispatcher.ts";
import { verifySignature } from "../server/src/webhooks/signature.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

/** A receiver on loopback that records what it accepted and can be told to fail. */
async function startReceiver() {
  const accepted: { position: string; type: string; body: string; signature: string }[] = [];
  let failuresLeft = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += String(c)));
    req.on("end", () => {
      requests++;
      if (failuresLeft > 0) {
        failuresLeft--;
        res.writeHead(500).end("receiver down for a moment");
        return;
      }
      accepted.push({
        position: String(req.headers["x-coffer-event-id"]),
        type: String(req.headers["x-coffer-event-type"]),
        body,
        signature: String(req.headers["x-coffer-signature"]),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    accepted,
    failNext: (n: number) => (failuresLeft = n),
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
let now = Date.now();
const clock = () => new Date(now);

beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.createTenant();
});
afterAll(() => t.close());

const subscribe = (url: string, organizationId = tenant.organizationId, session = tenant.session) =>
  t.gql(
    `mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { __typename ... on Error { message } ... on MutationCreateWebhookSubscriptionSuccess { data { signingSecret subscription { id } } } } }`,
    { i: { organizationId, url } },
    session,
  );
const status = async () =>
  (
    await t.gql(
      `query($id: ID!) { organization(id: $id) { webhookSubscriptions { url deliveredThroughPosition failedAttempts lastError nextAttemptAt } } }`,
      { id: tenant.organizationId },
      tenant.session,
    )
  ).data.organization.webhookSubscriptions;

describe("webhook deliveries", () => {
  it("deliver every event exactly once, in order, signed, through injected failures", async () => {
    const receiver = await startReceiver();
    const created = await subscribe(receiver.url);
    const { signingSecret } = created.data.createWebhookSubscription.data;
    expect(signingSecret).toMatch(/^whsec_/);
    const ops = secretOps(t);
    for (const name of ["staging", "prod"]) {
      await t.gql(
        `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
        { i: { workspaceId: tenant.workspaceId, name } },
        tenant.session,
      );
    }
    const secret = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "siem-test",
      values: asInput({ K: "never-in-a-webhook" }),
    });
    await ops.rotate(tenant.session, {
      id: secret.data.secret.id,
      values: asInput({ K: "never-in-a-webhook-2" }),
    });

    const dispatcher = createDispatcher({
      db: t.db,
      transit: t.app.transit,
      logger: createLogger("silent"),
      clock,
      egress: t.egress.webhooks,
    });
    receiver.failNext(2);
    expect(await dispatcher.runOnce()).toBe(0); // first event refused: stop, retry later
    const failing = (await status())[0];
    expect(failing).toMatchObject({ failedAttempts: 1, lastError: "HTTP 500" });
    expect(await dispatcher.runOnce()).toBe(0); // not due yet: no request
    expect(receiver.requests()).toBe(1);
    now += 1_500;
    expect(await dispatcher.runOnce()).toBe(0); // second failure, longer backoff
    now += 10_000;
    const delivered = await dispatcher.runOnce();
    expect(delivered).toBeGreaterThanOrEqual(5);

    const expected = await t.database.admin<{ position: string; type: string }>(
      `SELECT position::text, type FROM events WHERE organization_id = $1 AND position > (SELECT min(position) FROM events WHERE type = 'WebhookSubscriptionCreated' AND organization_id = $1) - 1 ORDER BY events.position`,
      [Buffer.from(tenant.organizationId, "base64").toString().split(":")[1]],
    );
    expect(receiver.accepted.map((a) => a.position)).toEqual(expected.map((e) => e.position));
    expect(receiver.accepted.map((a) => a.type)).toEqual(
      expect.arrayContaining([
        "WebhookSubscriptionCreated",
        "EnvironmentDeclared",
        "SecretCreated",
        "SecretRotated",
      ]),
    );
    for (const a of receiver.accepted) {
      expect(verifySignature(signingSecret, a.body, a.signature, Math.floor(now / 1000))).toBe(
        true,
      );
      expect(
        verifySignature(signingSecret, `${a.body} `, a.signature, Math.floor(now / 1000)),
      ).toBe(false);
      expect(a.body).not.toContain("never-in-a-webhook");
      expect(JSON.parse(a.body)).toMatchObject({
        position: a.position,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
    expect((await status())[0]).toMatchObject({
      failedAttempts: 0,
      lastError: null,
      deliveredThroughPosition: expected.at(-1)!.position,
    });
    // Nothing new: nothing sent again.
    expect(await dispatcher.runOnce()).toBe(0);
    expect(receiver.accepted).toHaveLength(expected.length);
    await receiver.close();
  });

  it("a dead receiver never blocks or fails commands", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/gone`;
    await subscribe(dead);
    const dispatcher = createDispatcher({
      db: t.db,
      transit: t.app.transit,
      logger: createLogger("silent"),
      clock,
      timeoutMs: 500,
      egress: t.egress.webhooks,
    });
    const started = Date.now();
    const result = await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: tenant.workspaceId, name: "while-dead" } },
      tenant.session,
    );
    expect(result.data.declareEnvironment.__typename).toBe("MutationDeclareEnvironmentSuccess");
    expect(Date.now() - started).toBeLessThan(2_000);
    await dispatcher.runOnce();
    const deadStatus = (await status()).find((s: { url: string }) => s.url === dead);
    expect(deadStatus.failedAttempts).toBe(1);
    expect(deadStatus.lastError).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it("two dispatchers on one database: one deliverer per subscription, a taken-over lease stops the other", async () => {
    const other = await t.createTenant();
    const inFlight = new Map<string, number>();
    const seen: string[] = [];
    let overlaps = 0;
    let onRequest: (position: string) => Promise<void> = async () => undefined;
    const server = http.createServer((req, res) => {
      const position = String(req.headers["x-coffer-event-id"]);
      inFlight.set(position, (inFlight.get(position) ?? 0) + 1);
      if (inFlight.get(position)! > 1) overlaps++;
      req.resume();
      req.on("end", () => {
        // A slow receiver: the answer waits a few turns of the event loop, so overlap would show.
        void onRequest(position)
          .then(() => new Promise((r) => setTimeout(r, 20)))
          .then(() => {
            inFlight.set(position, inFlight.get(position)! - 1);
            seen.push(position);
            res.writeHead(204).end();
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const created = await subscribe(url, other.organizationId, other.session);
    const id: string = created.data.createWebhookSubscription.data.subscription.id;
    for (const name of ["a", "b", "c"])
      await t.gql(
        `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
        { i: { workspaceId: other.workspaceId, name } },
        other.session,
      );
    const make = (instance: string) =>
      createDispatcher({
        db: t.db,
        transit: t.app.transit,
        logger: createLogger("silent"),
        clock,
        instance,
        egress: t.egress.webhooks,
      });
    const [one, two] = [make("one"), make("two")];

    // A live lease held by someone else: nothing is sent.
    await t.database.admin(
      `UPDATE webhook_subscriptions SET lease_owner = 'elsewhere', lease_until = now() + interval '1 hour' WHERE id = $1`,
      [id],
    );
    expect(await one.runOnce()).toBe(0);
    expect(seen).toEqual([]);
    // That holder died: its lease lapsed, and both dispatchers race for the subscription.
    await t.database.admin(
      `UPDATE webhook_subscriptions SET lease_until = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    const counts = await Promise.all([one.runOnce(), two.runOnce()]);
    expect(counts.filter((n) => n > 0)).toHaveLength(1);
    expect(overlaps).toBe(0);
    expect(new Set(seen).size).toBe(seen.length);
    const firstRound = seen.length;
    expect(firstRound).toBe(counts[0]! + counts[1]!);
    const [row] = await t.database.admin<{ lease_owner: string | null; cursor: string }>(
      `SELECT lease_owner, cursor_position::text AS cursor FROM webhook_subscriptions WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ lease_owner: null, cursor: seen.at(-1) });

    // A lease taken over while a request is in flight: the old holder writes nothing more.
    await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: other.workspaceId, name: "d" } },
      other.session,
    );
    await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: other.workspaceId, name: "e" } },
      other.session,
    );
    onRequest = async () => {
      await t.database.admin(
        `UPDATE webhook_subscriptions SET lease_owner = 'thief', lease_until = now() + interval '1 hour' WHERE id = $1`,
        [id],
      );
    };
    expect(await one.runOnce()).toBe(0);
    expect(seen).toHaveLength(firstRound + 1);
    const [after] = await t.database.admin<{ lease_owner: string; cursor: string }>(
      `SELECT lease_owner, cursor_position::text AS cursor FROM webhook_subscriptions WHERE id = $1`,
      [id],
    );
    expect(after).toEqual({ lease_owner: "thief", cursor: row!.cursor });
    await t.database.admin(`UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1`, [
      id,
    ]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("needs https outside loopback, organization admin, and hides other organizations", async () => {
    expect(
      (await subscribe("http://siem.example.com/hook")).data.createWebhookSubscription.__typename,
    ).toBe("ValidationError");
    const member = await t.addMember(tenant, "MEMBER");
    expect(
      (await subscribe("https://siem.example.com/hook", tenant.organizationId, member.session)).data
        .createWebhookSubscription.__typename,
    ).toBe("ForbiddenError");
    const other = await t.createTenant();
    const onOther = await subscribe("https://siem.example.com/hook", other.organizationId);
    const onMissing = await subscribe(
      "https://siem.example.com/hook",
      encodeGlobalID("Organization", randomUUID()),
    );
    expect(onOther.data).toEqual(onMissing.data);
    expect(onOther.data.createWebhookSubscription.__typename).toBe("NotFoundError");
    const del = (org: string) =>
      t.gql(
        `mutation($o: ID!, $id: ID!) { deleteWebhookSubscription(organizationId: $o, id: $id) { __typename } }`,
        { o: org, id: randomUUID() },
        tenant.session,
      );
    expect((await del(other.organizationId)).data).toEqual(
      (await del(encodeGlobalID("Organization", randomUUID()))).data,
    );
  });
});
