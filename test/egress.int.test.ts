import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import ipaddr from "ipaddr.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EgressRefusedError, type EgressRefusal } from "../server/src/errors/EgressRefusedError.ts";
import { createLogger } from "../server/src/logger.ts";
import { createEgress, type Egress, type Lookup } from "../server/src/net/egress.ts";
import { createDispatcher } from "../server/src/webhooks/dispatcher.ts";
import { testEgress } from "./testkit/egress.ts";
import { LOOPBACK_NOTATIONS, REFUSED } from "./testkit/egressCases.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

/*
 * HARD RULE of this file: nothing connects to a non-loopback address and nothing asks real
 * DNS. Every name resolves through a stubbed lookup, either to a loopback listener below or
 * to an address the guard must refuse before connecting.
 */

/** An HTTP listener on a loopback address that counts the TCP connections it accepts. */
async function startListener(host = "127.0.0.1", port = 0) {
  let connections = 0;
  let redirectTo = "";
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    if (path === "/redirect") return void res.writeHead(302, { location: redirectTo }).end();
    if (path === "/slow") return void setTimeout(() => res.end("late"), 2_000).unref();
    if (path === "/slow-body") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("a");
      return void setTimeout(() => res.end("late"), 2_000).unref();
    }
    if (path.startsWith("/bytes/")) {
      const size = Number(path.slice("/bytes/".length));
      const declared = req.headers["x-declare"] !== "no";
      res.writeHead(200, declared ? { "content-length": String(size) } : {});
      // Written in pieces, so an undeclared size arrives chunked.
      for (let sent = 0; sent < size; sent += 16_384)
        res.write(Buffer.alloc(Math.min(16_384, size - sent), 0x61));
      return void res.end();
    }
    if (path === "/gzip-bomb") {
      res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" });
      return void res.end(gzipSync(Buffer.alloc(8 * 1024 * 1024)));
    }
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    host,
    port: address.port,
    connections: () => connections,
    redirectTo: (url: string) => (redirectTo = url),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Listener = Awaited<ReturnType<typeof startListener>>;

async function refusal(request: Promise<Response>): Promise<EgressRefusedError> {
  const error = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressRefusedError);
  return error as EgressRefusedError;
}

async function expectRefused(request: Promise<Response>, reason: EgressRefusal, detail: RegExp) {
  const error = await refusal(request);
  expect(error.reason).toBe(reason);
  expect(error.detail).toMatch(detail);
  expect(error.message).toBe(`Coffer refused the request: ${error.detail}`);
}

const guard = (options: Parameters<typeof testEgress>[0]) => {
  const egress = testEgress({ allowLoopback: false, ...options });
  guards.push(egress);
  return egress;
};
const guards: Egress[] = [];

let listener: Listener;
beforeAll(async () => {
  listener = await startListener();
});
afterAll(async () => {
  await Promise.all(guards.map((g) => g.close()));
  await listener.close();
});

describe("the egress guard, at request time", () => {
  it("refuses a name resolving into any refused range, before connecting", async () => {
    const names = Object.fromEntries(
      REFUSED.map(([address], i) => [`n${i}.example.test`, [address]]),
    );
    const egress = guard({ names });
    const before = listener.connections();
    for (const [i, [address, why]] of REFUSED.entries()) {
      const error = await refusal(egress.fetch(`http://n${i}.example.test:${listener.port}/`));
      expect(error.reason, address).toBe("address");
      expect(error.detail, address).toContain(`n${i}.example.test resolves to ${address}, `);
      expect(error.detail, address).toMatch(why);
    }
    expect(listener.connections()).toBe(before);
  });

  it("a public-looking name pointed at a listener: refused, nothing arrives; allowed explicitly, it arrives", async () => {
    const names = { "api.example.test": ["127.0.0.1"] };
    const before = listener.connections();
    await expectRefused(
      guard({ names }).fetch(`http://api.example.test:${listener.port}/`),
      "address",
      /^api\.example\.test resolves to 127\.0\.0\.1, a loopback address \(127\.0\.0\.0\/8\)$/,
    );
    expect(listener.connections()).toBe(before);

    // Control: the same request with 127.0.0.0/8 allowed (EGRESS_ALLOW_CIDRS) arrives.
    const allowed = guard({ names, allowCidrs: ["127.0.0.0/8"] });
    const response = await allowed.fetch(`http://api.example.test:${listener.port}/`);
    expect(await response.json()).toEqual({ ok: true });
    expect(listener.connections()).toBe(before + 1);
    // The development loopback flag allows loopback, and only loopback.
    const dev = guard({
      names: { ...names, "lan.example.test": ["192.168.1.10"] },
      allowLoopback: true,
    });
    expect((await dev.fetch(`http://api.example.test:${listener.port}/`)).status).toBe(200);
    await expectRefused(
      dev.fetch(`http://lan.example.test:${listener.port}/`),
      "address",
      /private/,
    );
  });

  it("refuses loopback in every literal notation; nothing arrives", async () => {
    const egress = guard({});
    const before = listener.connections();
    for (const host of LOOPBACK_NOTATIONS)
      await expectRefused(
        egress.fetch(`http://${host}:${listener.port}/`),
        "address",
        /^(127\.0\.0\.1|\[[0-9a-f:]+\]) is a loopback address/,
      );
    expect(listener.connections()).toBe(before);

    // Control: the IPv4 notations do reach the listener once 127.0.0.0/8 is allowed.
    const allowed = guard({ allowCidrs: ["127.0.0.0/8"] });
    const ipv4 = LOOPBACK_NOTATIONS.filter((host) => !host.startsWith("["));
    for (const host of ipv4)
      expect((await allowed.fetch(`http://${host}:${listener.port}/`)).status, host).toBe(200);
    expect(listener.connections()).toBeGreaterThan(before);
  });

  it("connects to the address it checked: a name that rebinds is looked up once", async () => {
    // Two listeners on one port: 127.0.0.2 is allowed, 127.0.0.1 is not.
    const checked = await startListener("127.0.0.2");
    const rebound = await startListener("127.0.0.1", checked.port);
    let lookups = 0;
    const rebinding: Lookup = async () =>
      lookups++ === 0
        ? [{ address: "127.0.0.2", family: 4 }]
        : [{ address: "127.0.0.1", family: 4 }];
    const egress = createEgress({
      policy: {
        allowCidrs: [ipaddr.parseCIDR("127.0.0.2/32")],
        allowLoopback: false,
        loopbackFlag: "WEBHOOKS_ALLOW_LOOPBACK_HTTP",
      },
      lookup: rebinding,
      timeoutMs: 2_000,
      maxResponseBytes: 1024,
    });
    guards.push(egress);
    const response = await egress.fetch(`http://rebind.example.test:${checked.port}/`, {
      headers: { connection: "close" },
    });
    expect(response.status).toBe(200);
    expect([lookups, checked.connections(), rebound.connections()]).toEqual([1, 1, 0]);
    // A new connection asks again, and this time the answer is refused before connecting.
    await expectRefused(
      egress.fetch(`http://rebind.example.test:${checked.port}/`),
      "address",
      /resolves to 127\.0\.0\.1/,
    );
    expect([lookups, checked.connections(), rebound.connections()]).toEqual([2, 1, 0]);

    // One refused address among the answers refuses the name.
    const mixed = guard({
      names: { "mixed.example.test": ["127.0.0.2", "127.0.0.1"] },
      allowCidrs: ["127.0.0.2/32"],
    });
    await expectRefused(
      mixed.fetch(`http://mixed.example.test:${checked.port}/`),
      "address",
      /resolves to 127\.0\.0\.1, a loopback address/,
    );
    expect([checked.connections(), rebound.connections()]).toEqual([1, 0]);
    await Promise.all([checked.close(), rebound.close()]);
  });

  it("does not follow a redirect to loopback", async () => {
    const target = await startListener("127.0.0.3");
    const egress = guard({ allowCidrs: ["127.0.0.1/32", "127.0.0.3/32"] });
    for (const location of [
      `http://127.0.0.3:${target.port}/`,
      `http://localhost:${target.port}/`,
      "http://169.254.169.254/latest/meta-data/",
    ]) {
      listener.redirectTo(location);
      await expectRefused(
        egress.fetch(`http://127.0.0.1:${listener.port}/redirect`),
        "redirect",
        /^127\.0\.0\.1 answered with a redirect \(HTTP 302\), and Coffer does not follow redirects$/,
      );
    }
    expect(target.connections()).toBe(0);
    await target.close();
  });

  it("cuts off a slow answer, in the headers or in the body", async () => {
    const egress = guard({ allowCidrs: ["127.0.0.1/32"], timeoutMs: 300 });
    for (const path of ["/slow", "/slow-body"]) {
      const started = Date.now();
      await expectRefused(
        egress.fetch(`http://127.0.0.1:${listener.port}${path}`),
        "timeout",
        /^127\.0\.0\.1 did not answer completely within 300 ms$/,
      );
      expect(Date.now() - started).toBeLessThan(1_500);
    }
  });

  it("refuses an answer larger than the cap, declared, streamed or compressed", async () => {
    const egress = guard({ allowCidrs: ["127.0.0.1/32"], maxResponseBytes: 65_536 });
    const url = (path: string) => `http://127.0.0.1:${listener.port}${path}`;
    expect((await (await egress.fetch(url("/bytes/65536"))).arrayBuffer()).byteLength).toBe(65_536);
    const tooLarge = /^127\.0\.0\.1 answered with more than 65536 bytes$/;
    await expectRefused(egress.fetch(url("/bytes/65537")), "too_large", tooLarge);
    await expectRefused(
      egress.fetch(url("/bytes/300000"), { headers: { "x-declare": "no" } }),
      "too_large",
      tooLarge,
    );
    await expectRefused(egress.fetch(url("/gzip-bomb")), "too_large", tooLarge);
  });

  it("a caller's own abort keeps its own error (the webhook lease, its shorter timeout)", async () => {
    const egress = guard({ allowCidrs: ["127.0.0.1/32"], timeoutMs: 5_000 });
    const error = await egress
      .fetch(`http://127.0.0.1:${listener.port}/slow`, { signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(EgressRefusedError);
    expect((error as Error).name).toBe("TimeoutError");
  });
});

describe("through the API", () => {
  let t: TestApp;
  let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
  beforeAll(async () => {
    t = await startTestApp({
      egress: {
        allowLoopback: false,
        names: {
          "hooks-private.example.test": ["10.0.0.5"],
          "hooks-loopback.example.test": ["127.0.0.1"],
          "idp-private.example.test": ["10.0.0.5"],
          "idp-loopback.example.test": ["127.0.0.1"],
          "idp-metadata.example.test": ["::ffff:169.254.169.254"],
        },
      },
    });
    tenant = await t.createTenant();
  });
  afterAll(() => t.close());

  const subscribe = (url: string) =>
    t.gql(
      `mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { __typename ... on ValidationError { message issues { path message } } ... on MutationCreateWebhookSubscriptionSuccess { data { subscription { id } } } } }`,
      { i: { organizationId: tenant.organizationId, url } },
      tenant.session,
    );
  const createProvider = (name: string, endpoints: Record<string, string>) =>
    t.gql(
      `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { __typename ... on ValidationError { message issues { path message } } ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } } } }`,
      {
        i: {
          workspaceId: tenant.workspaceId,
          name,
          grantTypes: ["client_credentials"],
          clientId: "coffer-client",
          clientSecret: "egress-test-client-secret",
          ...endpoints,
        },
      },
      tenant.session,
    );
  const connect = (providerId: string) =>
    t.gql(
      `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { __typename ... on Error { message code } ... on OAuthProviderError { oauthError } } }`,
      { i: { workspaceId: tenant.workspaceId, providerId } },
      tenant.session,
    );

  /** Destinations refused when they are configured, with the reason the person reads. */
  const CONFIG_REFUSED: [string, RegExp][] = [
    ["https://10.0.0.5/hook", /points at 10\.0\.0\.5, a private address \(RFC 1918\)/],
    ["https://2130706433/hook", /points at 127\.0\.0\.1, a loopback address/],
    ["https://0x7f000001/hook", /points at 127\.0\.0\.1, a loopback address/],
    ["https://0177.0.0.1/hook", /points at 127\.0\.0\.1, a loopback address/],
    ["https://127.1/hook", /points at 127\.0\.0\.1, a loopback address/],
    ["https://[::ffff:127.0.0.1]/hook", /loopback address .*IPv4-mapped/],
    ["https://[::ffff:169.254.169.254]/", /cloud metadata address/],
    ["https://169.254.169.254/latest/meta-data/", /cloud metadata address/],
    ["https://[fd00:ec2::254]/", /cloud metadata address/],
    ["https://100.100.100.200/", /cloud metadata address/],
    ["https://100.64.0.1/", /carrier-grade NAT/],
    ["https://[fd12::1]/", /unique-local/],
    ["https://[64:ff9b::a00:5]/", /private address .*NAT64/],
    ["https://localhost/hook", /localhost, a loopback name/],
    ["https://coffer.localhost/hook", /a loopback name/],
    ["https://metadata.google.internal/computeMetadata/v1/", /cloud metadata service/],
    ["https://vault.internal/", /under \.internal/],
    ["https://vault:8200/", /single-label name/],
  ];

  it("refuses a webhook receiver at a refused literal or internal name (ValidationError on url)", async () => {
    for (const [url, why] of CONFIG_REFUSED) {
      const answer = (await subscribe(url)).data.createWebhookSubscription;
      expect(answer.__typename, url).toBe("ValidationError");
      expect(answer.issues, url).toEqual([{ path: "url", message: expect.stringMatching(why) }]);
      expect(answer.message, url).toMatch(/^url: points at /);
    }
    const rows = await t.database.admin(`SELECT count(*)::int AS n FROM webhook_subscriptions`);
    expect(rows[0]!.n).toBe(0);
  });

  it("refuses a custom OAuth provider's endpoints at refused literals (ValidationError on the field)", async () => {
    for (const [i, [url, why]] of CONFIG_REFUSED.entries()) {
      const token = (await createProvider(`Token ${i}`, { tokenEndpoint: url })).data
        .createCustomOAuthProvider;
      expect(token.__typename, url).toBe("ValidationError");
      expect(token.issues, url).toEqual([
        { path: "tokenEndpoint", message: expect.stringMatching(why) },
      ]);
    }
    const authorization = (
      await createProvider("Authorize", {
        tokenEndpoint: "https://idp.example.test/token",
        authorizationEndpoint: "https://0x7f000001/authorize",
      })
    ).data.createCustomOAuthProvider;
    expect(authorization.issues).toEqual([
      { path: "authorizationEndpoint", message: expect.stringMatching(/loopback address/) },
    ]);
    const rows = await t.database.admin(
      `SELECT count(*)::int AS n FROM oauth_providers WHERE NOT builtin`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("a webhook receiver whose name resolves to a refused address fails the delivery with the reason", async () => {
    const before = listener.connections();
    for (const host of [
      "hooks-private.example.test",
      `hooks-loopback.example.test:${listener.port}`,
    ])
      expect(
        (await subscribe(`https://${host}/hook`)).data.createWebhookSubscription.__typename,
      ).toBe("MutationCreateWebhookSubscriptionSuccess");
    const dispatcher = createDispatcher({
      db: t.db,
      transit: t.app.transit,
      logger: createLogger("silent"),
      egress: t.egress.webhooks,
    });
    expect(await dispatcher.runOnce()).toBe(0);
    const subscriptions = (
      await t.gql(
        `query($id: ID!) { organization(id: $id) { webhookSubscriptions { url failedAttempts lastError } } }`,
        { id: tenant.organizationId },
        tenant.session,
      )
    ).data.organization.webhookSubscriptions;
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        {
          url: "https://hooks-private.example.test/hook",
          failedAttempts: 1,
          lastError:
            "Coffer refused the request: hooks-private.example.test resolves to 10.0.0.5, a private address (RFC 1918)",
        },
        {
          url: `https://hooks-loopback.example.test:${listener.port}/hook`,
          failedAttempts: 1,
          lastError:
            "Coffer refused the request: hooks-loopback.example.test resolves to 127.0.0.1, a loopback address (127.0.0.0/8)",
        },
      ]),
    );
    expect(listener.connections()).toBe(before);
  });

  it("an OAuth token endpoint whose name resolves to a refused address fails the token call with the reason", async () => {
    const before = listener.connections();
    const cases: [string, string][] = [
      ["idp-private.example.test", "resolves to 10.0.0.5, a private address (RFC 1918)"],
      [`idp-loopback.example.test:${listener.port}`, "resolves to 127.0.0.1, a loopback address"],
      ["idp-metadata.example.test", "resolves to ::ffff:169.254.169.254, a cloud metadata address"],
    ];
    for (const [i, [host, why]] of cases.entries()) {
      const created = (
        await createProvider(`Resolving ${i}`, { tokenEndpoint: `https://${host}/token` })
      ).data.createCustomOAuthProvider;
      expect(created.__typename, host).toBe("MutationCreateCustomOAuthProviderSuccess");
      const answer = (await connect(created.data.providerId)).data.connectOAuthClientCredentials;
      expect(answer, host).toMatchObject({
        __typename: "OAuthProviderError",
        code: "OAUTH_PROVIDER_ERROR",
        oauthError: "egress_refused",
      });
      expect(answer.message).toContain(
        `Coffer refused to call ${created.data.providerId}: ${host.split(":")[0]} ${why}`,
      );
    }
    expect(listener.connections()).toBe(before);
    const connections = await t.database.admin(`SELECT count(*)::int AS n FROM oauth_connections`);
    expect(connections[0]!.n).toBe(0);
  });

  it("control: with 127.0.0.0/8 allowed (EGRESS_ALLOW_CIDRS), the same token call reaches the listener", async () => {
    const allowed = await startTestApp({
      egress: {
        allowLoopback: false,
        allowCidrs: ["127.0.0.0/8"],
        names: { "idp-loopback.example.test": ["127.0.0.1"] },
      },
    });
    try {
      const owner = await allowed.createTenant();
      const created = await allowed.ok<{ providerId: string }>(
        "createCustomOAuthProvider",
        `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { __typename ... on Error { message } ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } } } }`,
        {
          i: {
            workspaceId: owner.workspaceId,
            name: "Reachable",
            tokenEndpoint: `https://idp-loopback.example.test:${listener.port}/token`,
            grantTypes: ["client_credentials"],
            clientId: "coffer-client",
            clientSecret: "egress-control-client-secret",
          },
        },
        owner.session,
      );
      const before = listener.connections();
      const answer = (
        await allowed.gql(
          `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { __typename ... on OAuthProviderError { oauthError } } }`,
          { i: { workspaceId: owner.workspaceId, providerId: created.providerId } },
          owner.session,
        )
      ).data.connectOAuthClientCredentials;
      // The listener speaks plain HTTP, so the TLS handshake fails — after the connection arrived.
      expect(answer.__typename).toBe("OAuthProviderError");
      expect(answer.oauthError).not.toBe("egress_refused");
      expect(listener.connections()).toBe(before + 1);
    } finally {
      await allowed.close();
    }
  });
});
