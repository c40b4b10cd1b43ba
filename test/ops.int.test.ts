import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../server/src/http/httpServer.ts";
import { createLogger } from "../server/src/logger.ts";
import { resolveOps } from "./testkit/resolveOps.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
beforeAll(async () => {
  t = await startTestApp({ rateLimits: { signInsPerMinute: 3, resolutionsPerMinute: 5 } });
  tenant = await t.createTenant();
});
afterAll(() => t.close());

describe("/metrics", () => {
  it("exposes request, operation, resolution and transit series after a resolution", async () => {
    await secretOps(t).create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "metered",
      values: asInput({ K: "metered-value" }),
    });
    const token = (
      await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
    ).token;
    const server = createHttpServer({
      yoga: t.app.yoga,
      db: t.db,
      logger: createLogger("silent"),
      metrics: t.app.metrics,
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const resolved = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: `mutation { resolveSecrets(input: { refs: [{ name: "metered", key: "K" }] }) { __typename } }`,
        }),
      });
      expect(
        ((await resolved.json()) as { data: { resolveSecrets: { __typename: string } } }).data
          .resolveSecrets.__typename,
      ).toBe("MutationResolveSecretsSuccess");
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/coffer_resolutions_total\{outcome="ok"\} 1\b/);
      expect(text).toMatch(/coffer_resolved_values_total 1\b/);
      expect(text).toMatch(
        /coffer_transit_request_duration_seconds_count\{operation="decrypt"\} [1-9]/,
      );
      expect(text).toMatch(
        /coffer_graphql_operation_duration_seconds_count\{operation="mutation:resolveSecrets",outcome="ok"\} 1\b/,
      );
      expect(text).toMatch(/coffer_http_requests_total\{route="\/graphql",status="200"\} 1\b/);
      expect(text).not.toContain("metered-value");
    } finally {
      server.close();
    }
  });
});

describe("rate limits", () => {
  it("refuse sign-in attempts beyond the limit, before checking the password", async () => {
    const user = await t.createUser();
    const attempt = (password: string) =>
      t.gql(
        `mutation($i: SignInInput!) { signIn(input: $i) { __typename ... on RateLimitedError { retryAfterSeconds message } } }`,
        { i: { email: user.email, password } },
      );
    for (let i = 0; i < 3; i++)
      expect((await attempt("wrong-password")).data.signIn.__typename).toBe("UnauthenticatedError");
    const limited = (await attempt(user.password)).data.signIn;
    expect(limited.__typename).toBe("RateLimitedError");
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("refuse resolutions beyond the per-token limit with a typed error", async () => {
    const token = (
      await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
    ).token;
    const r = resolveOps(t);
    const usage = async () =>
      (
        await t.database.admin<{ n: number }>(
          `SELECT count(*)::int AS n FROM events WHERE type LIKE 'SecretsResolution%' OR type = 'SecretsResolved'`,
        )
      )[0]!.n;
    const before = await usage();
    const results = [];
    for (let i = 0; i < 6; i++)
      results.push(
        (await r.resolve({ token }, { refs: [{ name: "metered", key: "K" }] })).__typename,
      );
    expect(results).toEqual([
      ...Array(5).fill("MutationResolveSecretsSuccess"),
      "RateLimitedError",
    ]);
    // The refused one is counted before anything is decrypted or recorded as a use.
    expect((await usage()) - before).toBe(5);
    const other = (
      await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
    ).token;
    expect(
      (await r.resolve({ token: other }, { refs: [{ name: "metered", key: "K" }] })).__typename,
    ).toBe("MutationResolveSecretsSuccess");
  });
});
