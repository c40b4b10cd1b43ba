import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../server/src/http/httpServer.ts";
import { createLogger } from "../server/src/logger.ts";
import { resolveOps } from "./testkit/resolveOps.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

/**
 * Two replicas (two createApp, two Prisma clients, two limiter pools) on one database:
 * the limits are counted in PostgreSQL, so a budget spent on one is spent on both.
 */
const masterKey = randomBytes(32);
const limits = { signInsPerMinute: 3, resolutionsPerMinute: 4 };
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  a = await startTestApp({ masterKey, rateLimits: limits, sharedRateLimits: true });
  b = await startTestApp({
    masterKey,
    rateLimits: limits,
    sharedRateLimits: true,
    database: a.database,
  });
});
afterAll(async () => {
  await b.close({ verifyProjections: false });
  await a.close();
});

describe("rate limits across replicas", () => {
  it("refuse a token on replica B once it spent its budget on replica A", async () => {
    const tenant = await a.createTenant();
    await secretOps(a).create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "shared-limit",
      values: asInput({ K: "shared-limit-value" }),
    });
    const { token } = await a.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
      "SECRETS_RESOLVE",
    ]);
    const input = { refs: [{ name: "shared-limit", key: "K" }] };
    // Replica B serves the token before A spends the rest: the count is one, not per replica.
    expect((await resolveOps(b).resolve({ token }, input)).__typename).toBe(
      "MutationResolveSecretsSuccess",
    );
    for (let i = 0; i < limits.resolutionsPerMinute - 1; i++)
      expect((await resolveOps(a).resolve({ token }, input)).__typename).toBe(
        "MutationResolveSecretsSuccess",
      );
    const refused = await resolveOps(b).resolve({ token }, input);
    expect(refused.__typename).toBe("RateLimitedError");
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    expect((await resolveOps(a).resolve({ token }, input)).__typename).toBe("RateLimitedError");
  });

  it("count sign-in attempts for one email on every replica together", async () => {
    const user = await a.createUser();
    const attempt = (app: TestApp, password: string) =>
      app
        .gql(`mutation($i: SignInInput!) { signIn(input: $i) { __typename } }`, {
          i: { email: user.email, password },
        })
        .then((r) => r.data.signIn.__typename);
    expect(await attempt(a, "wrong-password")).toBe("UnauthenticatedError");
    expect(await attempt(b, "wrong-password")).toBe("UnauthenticatedError");
    expect(await attempt(a, "wrong-password")).toBe("UnauthenticatedError");
    // The right password on the other replica is still refused: the budget is shared.
    expect(await attempt(b, user.password)).toBe("RateLimitedError");
    // The table holds hashed keys, not the email.
    const rows = await a.database.admin<{ key: string }>(`SELECT key FROM rate_limits`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.key).join("\n")).not.toContain(user.email);
  });
});

describe("sign-in limits behind a reverse proxy", () => {
  /** Replica A over real HTTP on loopback, where the test plays the proxy. */
  async function listen(trustedProxies: string[]) {
    const server = createHttpServer({
      yoga: a.app.yoga,
      db: a.db,
      logger: createLogger("silent"),
      trustedProxies,
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const attempt = async (email: string, password: string, forwardedFor: string) => {
      const response = await fetch(`${origin}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
        body: JSON.stringify({
          query: `mutation($i: SignInInput!) { signIn(input: $i) { __typename } }`,
          variables: { i: { email, password } },
        }),
      });
      return ((await response.json()) as { data: { signIn: { __typename: string } } }).data.signIn
        .__typename;
    };
    return { attempt, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it("count per client address when the proxy is trusted (TRUSTED_PROXIES), per proxy when not", async () => {
    const trusted = await listen(["127.0.0.1"]);
    const user = await a.createUser();
    for (let i = 0; i < limits.signInsPerMinute; i++)
      expect(await trusted.attempt(user.email, "wrong-password", "198.51.100.1")).toBe(
        "UnauthenticatedError",
      );
    expect(await trusted.attempt(user.email, user.password, "198.51.100.1")).toBe(
      "RateLimitedError",
    );
    // Another client behind the same proxy keeps its own budget...
    expect(await trusted.attempt(user.email, user.password, "198.51.100.2")).toBe(
      "MutationSignInSuccess",
    );
    // ...and a client cannot buy a fresh one by sending its own header first.
    expect(await trusted.attempt(user.email, user.password, "203.0.113.50, 198.51.100.1")).toBe(
      "RateLimitedError",
    );
    await trusted.close();

    // Not trusted: the header is ignored, so every client shares the proxy's address.
    const untrusted = await listen([]);
    const other = await a.createUser();
    for (let i = 0; i < limits.signInsPerMinute; i++)
      expect(await untrusted.attempt(other.email, "wrong-password", `198.51.100.${10 + i}`)).toBe(
        "UnauthenticatedError",
      );
    expect(await untrusted.attempt(other.email, other.password, "198.51.100.99")).toBe(
      "RateLimitedError",
    );
    await untrusted.close();
  });
});
