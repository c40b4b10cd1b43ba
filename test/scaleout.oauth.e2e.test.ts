import { afterAll, describe, expect, it } from "vitest";
import { startOAuthServer } from "./testkit/oauthServer.ts";
import { graphqlAt, signInAt } from "./testkit/remoteGraphql.ts";
import { createReplicaDatabase } from "./testkit/replicaDatabase.ts";
import { createReplicaSet, type Replica } from "./testkit/replicas.ts";
import { RESOLVE } from "./testkit/resolveOps.ts";
import { until } from "./testkit/until.ts";

/**
 * One OAuth refresh for many concurrent resolutions spread over three real `api` processes
 * on one PostgreSQL, against a real authorization server (oidc-provider) on loopback.
 * Inside a process, resolutions share one refresh in memory; across processes only the row
 * lock on the connection keeps a second replica from spending the (rotating) refresh token
 * again — which the provider would answer with invalid_grant, revoking the grant.
 */
const RESOLUTIONS = 24;
const PUBLIC_URL = "http://coffer.test";
const idp = await startOAuthServer({
  accessTokenTtlSeconds: 60,
  redirectUri: `${PUBLIC_URL}/oauth/callback`,
});
const database = await createReplicaDatabase("coffer_scaleout_oauth");
const replicas = createReplicaSet({
  database,
  env: { OAUTH_ALLOW_LOOPBACK_HTTP: "true", PUBLIC_URL },
});

afterAll(async () => {
  await replicas.stop();
  await database.drop();
  await idp.close();
}, 30_000);

const REF = { name: "custom_acme_api_oauth", key: "CUSTOM_ACME_API_USER_TOKEN" };

/** Transactions of this database waiting for the refresh's row lock on a connection. */
async function rowLockWaiters(): Promise<number> {
  const [row] = await database.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock'
       AND query ILIKE '%FROM oauth_connections%FOR UPDATE%'`,
  );
  return row!.n;
}

async function resolveAt(replica: Replica, token: string) {
  const { body } = await graphqlAt(replica.origin, RESOLVE, { i: { refs: [REF] } }, { token });
  return body.data?.resolveSecrets ?? body.errors;
}

/** Runs a mutation and returns its success payload, or fails with what came back. */
async function ok(replica: Replica, field: string, query: string, variables: object, auth = {}) {
  const { body } = await graphqlAt(replica.origin, query, variables, auth);
  const result = body.data?.[field];
  if (!result?.__typename?.endsWith("Success")) {
    throw new Error(`${field}: ${JSON.stringify(body)}\n${replica.output()}`);
  }
  return result.data;
}

describe("OAuth refresh on scaled-out replicas", () => {
  it("refreshes an expired token once for concurrent resolutions spread over three processes", async () => {
    // All three at once, as an orchestrator starts them: they migrate one database together.
    const api = await Promise.all([
      replicas.start("api"),
      replicas.start("api"),
      replicas.start("api"),
    ]);
    const [a, b, c] = api as [Replica, Replica, Replica];
    const session = await signInAt(a.origin, replicas.admin, a.output);
    const viewer = await graphqlAt(
      a.origin,
      `{ viewer { organizations { id workspaces { edges { node { id } } } } } }`,
      {},
      session,
    );
    const organizationId: string = viewer.body.data.viewer.organizations[0].id;
    const workspaceId: string =
      viewer.body.data.viewer.organizations[0].workspaces.edges[0].node.id;

    // Connect on one replica, finish on another (the state lives in PostgreSQL).
    await ok(
      a,
      "createCustomOAuthProvider",
      `mutation ($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { __typename ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } } } }`,
      {
        i: {
          workspaceId,
          name: "Acme API",
          authorizationEndpoint: idp.authorizationEndpoint,
          tokenEndpoint: idp.tokenEndpoint,
          defaultScopes: ["openid", "offline_access", "read"],
          grantTypes: ["authorization_code"],
          clientId: idp.client.clientId,
          clientSecret: idp.client.clientSecret,
        },
      },
      session,
    );
    const started = await ok(
      b,
      "startOAuthAuthorization",
      `mutation ($i: OAuthConnectInput!) { startOAuthAuthorization(input: $i) { __typename ... on MutationStartOAuthAuthorizationSuccess { data { authorizationUrl } } } }`,
      { i: { workspaceId, providerId: "custom_acme_api" } },
      session,
    );
    const callback = await idp.approve(started.authorizationUrl);
    const connected = await ok(
      c,
      "completeOAuthAuthorization",
      `mutation ($q: String!) { completeOAuthAuthorization(callbackQuery: $q) { __typename ... on MutationCompleteOAuthAuthorizationSuccess { data { kind status } } } }`,
      { q: new URL(callback).search },
      session,
    );
    expect(connected).toEqual({ kind: "USER", status: "CONNECTED" });
    const { token } = await ok(
      a,
      "issueApiToken",
      `mutation ($i: IssueApiTokenInput!) { issueApiToken(input: $i) { __typename ... on MutationIssueApiTokenSuccess { data { token } } } }`,
      { i: { workspaceId, name: "ci", permissions: ["SECRETS_RESOLVE"] } },
      session,
    );

    // The fresh token resolves as it is; then it expires.
    const first = await resolveAt(a, token);
    expect(first.__typename).toBe("MutationResolveSecretsSuccess");
    const oldToken: string = first.data.values[0].value;
    const before = idp.tokenRequests();
    expect(before).toMatchObject({ authorization_code: 1, refresh_token: 0 });
    await database.sql(
      `UPDATE oauth_connections SET refreshed_at = now() - interval '61 seconds', expires_at = now() - interval '1 second' WHERE disconnected_at IS NULL`,
    );

    // The provider holds the refresh until every replica is either at the provider or
    // waiting for the row lock, so the three overlap for certain.
    const hold = idp.holdTokenRequests();
    const burst = Promise.all(
      Array.from({ length: RESOLUTIONS }, (_, i) => resolveAt(api[i % api.length]!, token)),
    );
    let waiters = 0;
    await until(
      async () => {
        waiters = await rowLockWaiters();
        return hold.held() + waiters >= api.length;
      },
      () =>
        `the replicas never all reached the refresh: ${hold.held()} at the provider, ${waiters} waiting`,
    );
    // A moment for a second refresh to arrive, were the lock not holding it back.
    await new Promise((r) => setTimeout(r, 300));
    const heldAtProvider = hold.held();
    waiters = await rowLockWaiters();
    hold.release();
    const results = await burst;
    expect({ heldAtProvider, waiters }).toEqual({ heldAtProvider: 1, waiters: api.length - 1 });

    // Every resolution succeeded with the one new access token.
    expect(results.map((r) => r.__typename)).toEqual(
      Array(RESOLUTIONS).fill("MutationResolveSecretsSuccess"),
    );
    const values = new Set(results.map((r) => r.data.values[0].value as string));
    expect(values.size).toBe(1);
    const [newToken] = values;
    expect(newToken).not.toBe(oldToken);
    expect(idp.tokenRequests()).toEqual({ ...before, refresh_token: 1 });

    // Each replica now sees the refreshed expiry: no further refresh.
    for (const replica of api) {
      const again = await resolveAt(replica, token);
      expect(again.data.values[0].value).toBe(newToken);
    }
    expect(idp.tokenRequests().refresh_token).toBe(1);

    // The audit: one refresh event, one usage event per resolution, and the chain verifies.
    const types = await database.sql<{ type: string; n: number }>(
      `SELECT type, count(*)::int AS n FROM events WHERE type IN ('OAuthTokenRefreshed', 'OAuthRefreshFailed', 'SecretsResolved', 'SecretsResolutionFailed') GROUP BY type`,
    );
    expect(Object.fromEntries(types.map((t) => [t.type, t.n]))).toEqual({
      OAuthTokenRefreshed: 1,
      SecretsResolved: 1 + RESOLUTIONS + api.length,
    });
    expect(new Set(results.map((r) => r.data.usageEventPosition)).size).toBe(RESOLUTIONS);
    const [events] = await database.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE organization_id = (SELECT organization_id FROM oauth_connections LIMIT 1)`,
    );
    const verified = await ok(
      b,
      "verifyAuditChain",
      `query ($id: ID!) { verifyAuditChain(organizationId: $id) { __typename ... on QueryVerifyAuditChainSuccess { data { ok eventCount firstBadPosition } } } }`,
      { id: organizationId },
      session,
    );
    expect(verified).toEqual({ ok: true, eventCount: events!.n, firstBadPosition: null });
    for (const replica of api) expect(replica.output()).not.toContain('"level":50');
    // What it observed, for the run's log (as globalSetup prints the plaintext scan).
    process.stdout.write(
      `${RESOLUTIONS} resolutions over ${api.length} replicas: ${heldAtProvider} refresh at the provider while ${waiters} replicas waited on the row lock; ${idp.tokenRequests().refresh_token} refresh_token grant, ${events!.n} events verified\n`,
    );
  }, 90_000);
});
