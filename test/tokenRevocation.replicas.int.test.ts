import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnauthenticatedError } from "../server/src/errors/UnauthenticatedError.ts";
import { verifyChain } from "../server/src/eventstore/verifyChain.ts";
import { isResolutionOnly } from "../server/src/graphql/resolutionOnly.ts";
import { createUsageLog } from "../server/src/resolution/usageLog.ts";
import { createApiTokenCache } from "../server/src/tenancy/apiTokenCache.ts";
import { RESOLVE } from "./testkit/resolveOps.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";
import { until } from "./testkit/until.ts";

// Resolutions authenticate API tokens from an in-process cache (tenancy/apiTokenCache.ts);
// a revocation must still count at once on every replica. Two replicas on one database.
// Some tests revoke a token behind the app's back (a superuser UPDATE with triggers off:
// the announcement every replica waits for never comes), so the projections are not
// compared with a replay here.

const masterKey = randomBytes(32);
let a: TestApp;
let b: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
const VALUE = "revocation-value-4b1e7d";

beforeAll(async () => {
  a = await startTestApp({ masterKey });
  b = await startTestApp({ masterKey, database: a.database });
  tenant = await a.createTenant();
  await secretOps(a).create(tenant.session, {
    workspaceId: tenant.workspaceId,
    name: "guarded",
    values: asInput({ KEY: VALUE }),
  });
});
afterAll(async () => {
  await b.close({ verifyProjections: false });
  await a.close({ verifyProjections: false });
});

const issue = async () =>
  a.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
    "SECRETS_RESOLVE",
    "SECRETS_READ",
  ]);
const resolveOn = (app: TestApp, token: string, name = "guarded") =>
  app.gql(
    RESOLVE,
    { i: { arguments: { k: `\${{ SECRETS.${name}.KEY }}` }, purpose: { runId: "revocation" } } },
    { token },
  );
const usageEventsOf = async (tokenId: string) =>
  (
    await a.database.admin<{ n: string }>(
      `SELECT count(*)::text AS n FROM events WHERE metadata->>'tokenId' = $1 AND type LIKE 'SecretsResol%'`,
      [tokenId],
    )
  )[0]!.n;
const localId = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;
/** Revokes a token the way no replica hears of: the announcement trigger does not fire. */
const revokeSilently = (tokenId: string) =>
  a.database.admin(
    `BEGIN; SET LOCAL session_replication_role = replica;
     UPDATE api_tokens SET revoked_at = now() WHERE id = '${tokenId}'; COMMIT;`,
  );

describe("API token revocation with cached tokens", () => {
  it("refuses a token on replica B the moment replica A revoked it, though B had it cached", async () => {
    const { token, apiToken } = await issue();
    const warm = await resolveOn(b, token);
    expect(warm.data.resolveSecrets.data.arguments.k).toBe(VALUE);
    const revoked = await a.gql(
      `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`,
      { id: apiToken.id },
      tenant.session,
    );
    expect(revoked.data.revokeApiToken.__typename).toBe("MutationRevokeApiTokenSuccess");
    const events = await usageEventsOf(localId(apiToken.id));
    const refused = await resolveOn(b, token);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(refused.data?.resolveSecrets ?? null).toBeNull();
    expect(refused.raw).not.toContain(VALUE);
    expect(await usageEventsOf(localId(apiToken.id))).toBe(events);
  });

  it("refuses a cached token whose revocation was never announced: the usage statement checks it", async () => {
    const { token, apiToken } = await issue();
    const tokenId = localId(apiToken.id);
    expect((await resolveOn(b, token)).data.resolveSecrets.__typename).toBe(
      "MutationResolveSecretsSuccess",
    );
    await revokeSilently(tokenId);
    const events = await usageEventsOf(tokenId);
    // Served from B's cache, stopped where its event would have become durable.
    const refused = await resolveOn(b, token);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(refused.raw).not.toContain(VALUE);
    // A missing credential answers the same: the holder of a revoked token learns nothing.
    const missing = await resolveOn(b, token, "no-such-credential");
    expect(missing.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(missing.raw).not.toContain("credential_not_found");
    expect(await usageEventsOf(tokenId)).toBe(events);
    // Anything but a resolution reads the token from the database, cache or not.
    const check = await b.gql(
      `query($i: CheckSecretsInput!) { checkSecrets(input: $i) { ready } }`,
      { i: { actions: [{ refs: [{ name: "guarded", key: "KEY" }] }] } },
      { token },
    );
    expect(check.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("appends the other resolutions of a batch that carried a revoked token, and only them", async () => {
    const live = await issue();
    const dead = await issue();
    await revokeSilently(localId(dead.apiToken.id));
    const usage = createUsageLog({ db: a.db });
    const record = (tokenId: string, runId: string) =>
      usage.record({
        organizationId: localId(tenant.organizationId),
        workspaceId: localId(tenant.workspaceId),
        event: {
          type: "SecretsResolutionFailed",
          data: {
            workspaceId: localId(tenant.workspaceId),
            environment: "default",
            onBehalfOf: null,
            purpose: { workflowId: null, runId, actionRef: null },
            reason: "credential_not_found",
            missing: ["x.Y"],
          },
        },
        metadata: { actor: { kind: "token", id: tokenId }, tokenId },
        now: new Date(),
      });
    // Submitted in one turn: one batch, which the dead token makes fail and retry without it.
    const results = await Promise.allSettled([
      record(localId(live.apiToken.id), "batch-live-1"),
      record(localId(dead.apiToken.id), "batch-dead"),
      record(localId(live.apiToken.id), "batch-live-2"),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(UnauthenticatedError);
    const runs = await a.database.admin<{ run: string }>(
      `SELECT data->'purpose'->>'runId' AS run FROM events WHERE data->'purpose'->>'runId' LIKE 'batch-%' ORDER BY position`,
    );
    expect(runs.map((r) => r.run)).toEqual(["batch-live-1", "batch-live-2"]);
    expect((await verifyChain(a.db, localId(tenant.organizationId))).ok).toBe(true);
  });

  it("is used only for documents that do nothing but resolve", () => {
    expect(isResolutionOnly(RESOLVE)).toBe(true);
    expect(isResolutionOnly(`mutation { a: resolveSecrets(input: {}) { __typename } }`)).toBe(true);
    expect(
      isResolutionOnly(
        `mutation { resolveSecrets(input: {}) { __typename } rotateSecret(input: {}) { __typename } }`,
      ),
    ).toBe(false);
    expect(isResolutionOnly(`query { resolveSecrets { __typename } }`)).toBe(false);
    expect(isResolutionOnly(`mutation { ...F } fragment F on Mutation { viewer }`)).toBe(false);
    expect(isResolutionOnly(`mutation A { resolveSecrets } mutation B { revokeApiToken }`)).toBe(
      false,
    );
    expect(isResolutionOnly("{")).toBe(false);
    expect(isResolutionOnly(undefined)).toBe(false);
  });

  it("drops every cached token when any process changes a token, and trusts none unsubscribed", async () => {
    const { apiToken } = await issue();
    const cache = createApiTokenCache();
    const entry = {
      id: localId(apiToken.id),
      organizationId: localId(tenant.organizationId),
      workspaceId: localId(tenant.workspaceId),
      permissions: ["secrets:resolve"],
      expiresAt: null,
      lastUsedAt: null,
    };
    const now = new Date();
    cache.set("hash", entry, cache.generation(), now);
    expect(cache.get("hash", now)).toBeUndefined(); // not subscribed: nothing is kept
    const stop = await cache.listen(a.database.appUrl);
    try {
      cache.set("hash", entry, cache.generation(), now);
      expect(cache.get("hash", now)).toEqual(entry);
      // A lookup that started before an announcement does not cache what it read.
      const stale = cache.generation();
      await a.gql(
        `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`,
        { id: apiToken.id },
        tenant.session,
      );
      await until(
        () => cache.get("hash", now) === undefined,
        () => "the revocation was never announced to the cache",
      );
      cache.set("hash", entry, stale, now);
      expect(cache.get("hash", now)).toBeUndefined();
      // An expired token is never served, whatever was cached.
      cache.set(
        "hash",
        { ...entry, expiresAt: new Date(now.getTime() + 1000) },
        cache.generation(),
        now,
      );
      expect(cache.get("hash", new Date(now.getTime() + 1000))).toBeUndefined();
    } finally {
      await stop();
    }
    expect(cache.get("hash", now)).toBeUndefined();
  });
});
