import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../server/src/http/httpServer.ts";
import { createLogger } from "../server/src/logger.ts";
import { startOAuthServer, type OAuthServer } from "./testkit/oauthServer.ts";
import { resolveOps } from "./testkit/resolveOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";
import { interceptTransit } from "./testkit/interceptTransit.ts";

let t: TestApp;
let idp: OAuthServer;
let r: ReturnType<typeof resolveOps>;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
let token: string;
let decrypts = 0;

/** The USER connection's 60 s token, issued 50 s ago: inside its refresh window (half its life). */
const NEAR_EXPIRY = `UPDATE oauth_connections SET refreshed_at = now() - interval '50 seconds', expires_at = now() + interval '10 seconds' WHERE kind = 'USER' AND disconnected_at IS NULL`;
const PROVIDER = `providerId name builtin configured clientId userTokenExpression serviceTokenExpression`;
const ERR = `__typename ... on Error { message code }`;

beforeAll(async () => {
  idp = await startOAuthServer({
    accessTokenTtlSeconds: 60,
    redirectUri: "http://coffer.test/oauth/callback",
  });
  t = await startTestApp({
    transit: (local) =>
      interceptTransit(local, (method) => {
        if (method === "decrypt") decrypts++;
      }),
  });
  r = resolveOps(t);
  tenant = await t.createTenant();
  token = (
    await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
  ).token;
});
afterAll(async () => {
  await t.close();
  await idp.close();
});

async function createProvider(name: string, extra: Record<string, unknown> = {}) {
  return t.gql(
    `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { ${ERR} ... on ValidationError { issues { path message } } ... on MutationCreateCustomOAuthProviderSuccess { data { ${PROVIDER} } } } }`,
    {
      i: {
        workspaceId: tenant.workspaceId,
        name,
        authorizationEndpoint: idp.authorizationEndpoint,
        tokenEndpoint: idp.tokenEndpoint,
        defaultScopes: ["openid", "offline_access", "read"],
        grantTypes: ["authorization_code", "client_credentials"],
        clientId: idp.client.clientId,
        clientSecret: idp.client.clientSecret,
        ...extra,
      },
    },
    tenant.session,
  );
}

const start = (session: { cookie: string }, providerId: string) =>
  t.gql(
    `mutation($i: OAuthConnectInput!) { startOAuthAuthorization(input: $i) { ${ERR} ... on MutationStartOAuthAuthorizationSuccess { data { authorizationUrl } } } }`,
    { i: { workspaceId: tenant.workspaceId, providerId } },
    session,
  );
const complete = (session: { cookie: string }, callbackUrl: string) =>
  t.gql(
    `mutation($q: String!) { completeOAuthAuthorization(callbackQuery: $q) { ${ERR} ... on MutationCompleteOAuthAuthorizationSuccess { data { id providerId environment kind status scopes expiresAt expression } } } }`,
    { q: new URL(callbackUrl).search },
    session,
  );
const connections = async () =>
  (
    await t.gql(
      `query($id: ID!) { workspace(id: $id) { oauthConnections { providerId kind status needsReconnection expiresAt refreshedAt } } }`,
      { id: tenant.workspaceId },
      tenant.session,
    )
  ).data.workspace.oauthConnections;

describe("custom providers", () => {
  it("derive their id from the name, number collisions, reserve custom_mcp_, and insist on https", async () => {
    const first = await createProvider("My Custom App");
    expect(first.data.createCustomOAuthProvider.data).toMatchObject({
      providerId: "custom_my_custom_app",
      builtin: false,
      configured: true,
      userTokenExpression:
        "${{ SECRETS.custom_my_custom_app_oauth.CUSTOM_MY_CUSTOM_APP_USER_TOKEN }}",
    });
    expect(
      (await createProvider("my custom-app!")).data.createCustomOAuthProvider.data.providerId,
    ).toBe("custom_my_custom_app_2");
    expect((await createProvider("Acme API")).data.createCustomOAuthProvider.data.providerId).toBe(
      "custom_acme_api",
    );
    expect((await createProvider("MCP Server")).data.createCustomOAuthProvider).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "name" }],
    });
    const insecure = await createProvider("Plain", { tokenEndpoint: "http://example.com/token" });
    expect(insecure.data.createCustomOAuthProvider).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "tokenEndpoint" }],
    });
    // The client secret is stored as a transit ciphertext and never returned.
    const rows = await t.database.admin(`SELECT client_secret_ciphertext FROM oauth_providers`);
    expect(rows.every((row) => String(row.client_secret_ciphertext).startsWith("vault:v"))).toBe(
      true,
    );
    expect(t.responses.join("\n")).not.toContain(idp.client.clientSecret);
  });

  it("defining a provider's endpoints needs workspace admin, not just oauth:manage", async () => {
    const editor = await t.addMember(tenant, "MEMBER", "EDITOR");
    const manager = await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
      "OAUTH_MANAGE",
    ]);
    const wsAdmin = await t.addMember(tenant, "MEMBER", "ADMIN");
    const create = (name: string, auth: { cookie: string } | { token: string }) =>
      t.gql(
        `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { ${ERR} ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } } } }`,
        {
          i: {
            workspaceId: tenant.workspaceId,
            name,
            tokenEndpoint: idp.tokenEndpoint,
            grantTypes: ["client_credentials"],
            clientId: idp.client.clientId,
            clientSecret: idp.client.clientSecret,
          },
        },
        auth,
      );
    for (const auth of [editor.session, { token: manager.token }])
      expect((await create("Editor's IdP", auth)).data.createCustomOAuthProvider).toEqual({
        __typename: "ForbiddenError",
        code: "FORBIDDEN",
        message: `Defining a custom OAuth provider's endpoints needs the "admin" permission`,
      });
    expect(
      (await create("Admin IdP", wsAdmin.session)).data.createCustomOAuthProvider.data.providerId,
    ).toBe("custom_admin_idp");
    // oauth:manage still changes what does not move the endpoints, and connects.
    const renamed = await t.gql(
      `mutation($i: UpdateCustomOAuthProviderInput!) { updateCustomOAuthProvider(input: $i) { ${ERR} } }`,
      { i: { workspaceId: tenant.workspaceId, providerId: "custom_admin_idp", name: "Renamed" } },
      editor.session,
    );
    expect(renamed.data.updateCustomOAuthProvider.__typename).toBe(
      "MutationUpdateCustomOAuthProviderSuccess",
    );
    await t.gql(
      `mutation($w: ID!, $p: String!) { deleteOAuthProvider(workspaceId: $w, providerId: $p) { ${ERR} } }`,
      { w: tenant.workspaceId, p: "custom_admin_idp" },
      tenant.session,
    );
  });

  it("lists built-in providers next to custom ones", async () => {
    const list = await t.gql(
      `query($id: ID!) { workspace(id: $id) { oauthProviders { providerId builtin configured } } }`,
      { id: tenant.workspaceId },
      tenant.session,
    );
    const ids = list.data.workspace.oauthProviders.map((p: { providerId: string }) => p.providerId);
    expect(ids).toEqual(
      expect.arrayContaining([
        "github",
        "google",
        "microsoft",
        "microsoft_teams",
        "slack",
        "custom_my_custom_app",
      ]),
    );
    expect(
      list.data.workspace.oauthProviders.find(
        (p: { providerId: string }) => p.providerId === "github",
      ),
    ).toEqual({ providerId: "github", builtin: true, configured: false });
  });
});

describe("authorization code + PKCE", () => {
  it("connects through the callback page and resolves the USER token", async () => {
    const started = await start(tenant.session, "custom_acme_api");
    const authorizationUrl = new URL(started.data.startOAuthAuthorization.data.authorizationUrl);
    expect(authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorizationUrl.searchParams.get("redirect_uri")).toBe(
      "http://coffer.test/oauth/callback",
    );
    const callbackUrl = await idp.approve(authorizationUrl.href, { login: "alice" });

    // The callback route serves the page that finishes the flow from the same origin.
    const server = createHttpServer({ yoga: t.app.yoga, db: t.db, logger: createLogger("silent") });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const page = await fetch(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/callback${new URL(callbackUrl).search}`,
      );
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
      const html = await page.text();
      expect(html).toContain("completeOAuthAuthorization");
      expect(html).not.toContain(new URL(callbackUrl).searchParams.get("code")!);
    } finally {
      server.close();
    }

    const connected = await complete(tenant.session, callbackUrl);
    expect(connected.data.completeOAuthAuthorization.data).toMatchObject({
      providerId: "custom_acme_api",
      environment: "default",
      kind: "USER",
      status: "CONNECTED",
      expression: "${{ SECRETS.custom_acme_api_oauth.CUSTOM_ACME_API_USER_TOKEN }}",
    });
    expect(idp.tokenRequests().authorization_code).toBe(1);
    // The same redirect cannot be used twice.
    expect(
      (await complete(tenant.session, callbackUrl)).data.completeOAuthAuthorization.__typename,
    ).toBe("ValidationError");

    // A fresh 60 s token is handed out as it is…
    const unrefreshed = idp.tokenRequests().refresh_token;
    const fresh = await r.resolve(
      { token },
      { refs: [{ name: "custom_acme_api_oauth", key: "CUSTOM_ACME_API_USER_TOKEN" }] },
    );
    expect(fresh.__typename).toBe("MutationResolveSecretsSuccess");
    expect(idp.tokenRequests().refresh_token).toBe(unrefreshed);
    // …one with 10 s of its 60 left is refreshed first.
    await t.database.admin(NEAR_EXPIRY);
    const before = idp.tokenRequests().refresh_token;
    const resolved = await r.resolve(
      { token },
      {
        arguments: {
          auth: "Bearer ${{ SECRETS.custom_acme_api_oauth.CUSTOM_ACME_API_USER_TOKEN }}",
        },
      },
    );
    expect(resolved.data.arguments.auth).toMatch(/^Bearer \S{20,}$/);
    expect(idp.tokenRequests().refresh_token).toBe(before + 1);
    const tokens = await t.database.admin(
      `SELECT access_token_ciphertext, refresh_token_ciphertext FROM oauth_connections WHERE disconnected_at IS NULL AND kind = 'USER'`,
    );
    expect(String(tokens[0]!.access_token_ciphertext)).toMatch(/^vault:v1:/);
    expect(t.logs.join("\n")).not.toContain(resolved.data.arguments.auth.slice(7));
  });

  it("refuses a replayed or expired state, a state from another session, and a mismatched PKCE verifier", async () => {
    const other = await t.signIn(tenant.owner.email, tenant.owner.password); // same user, another session
    const url = (await start(tenant.session, "custom_acme_api")).data.startOAuthAuthorization.data
      .authorizationUrl;
    const callback = await idp.approve(url);
    expect((await complete(other, callback)).data.completeOAuthAuthorization).toMatchObject({
      __typename: "ValidationError",
      message: expect.stringMatching(/another session/),
    });
    // The session that started it can still finish it, once; a replay is refused.
    expect(
      (await complete(tenant.session, callback)).data.completeOAuthAuthorization.__typename,
    ).toBe("MutationCompleteOAuthAuthorizationSuccess");
    expect(
      (await complete(tenant.session, callback)).data.completeOAuthAuthorization.__typename,
    ).toBe("ValidationError");

    const expiring = (await start(tenant.session, "custom_acme_api")).data.startOAuthAuthorization
      .data.authorizationUrl;
    await t.database.admin(
      `UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state = $1`,
      [new URL(expiring).searchParams.get("state")],
    );
    expect(
      (await complete(tenant.session, await idp.approve(expiring))).data.completeOAuthAuthorization
        .__typename,
    ).toBe("ValidationError");

    const tampered = (await start(tenant.session, "custom_acme_api")).data.startOAuthAuthorization
      .data.authorizationUrl;
    await t.database.admin(`UPDATE oauth_states SET code_verifier = $2 WHERE state = $1`, [
      new URL(tampered).searchParams.get("state"),
      "x".repeat(64),
    ]);
    expect(
      (await complete(tenant.session, await idp.approve(tampered))).data.completeOAuthAuthorization,
    ).toMatchObject({ __typename: "OAuthProviderError" });
  });

  it("ten concurrent resolutions of an expiring token cause exactly one refresh", async () => {
    const before = idp.tokenRequests().refresh_token;
    await t.database.admin(NEAR_EXPIRY);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        r.resolve(
          { token },
          { refs: [{ name: "custom_acme_api_oauth", key: "CUSTOM_ACME_API_USER_TOKEN" }] },
        ),
      ),
    );
    expect(results.map((x) => x.__typename)).toEqual(
      Array(10).fill("MutationResolveSecretsSuccess"),
    );
    expect(idp.tokenRequests().refresh_token).toBe(before + 1);
    expect(new Set(results.map((x) => x.data.values[0].value)).size).toBe(1);
    const refreshed = await t.database.admin(
      `SELECT count(*)::int AS n FROM events WHERE type = 'OAuthTokenRefreshed'`,
    );
    expect(refreshed[0]!.n).toBeGreaterThanOrEqual(2);
  });

  it("a revoked refresh token marks the connection as needing reconnection and resolution fails typed", async () => {
    expect(await idp.revokeRefreshTokens()).toBeGreaterThan(0);
    await t.database.admin(NEAR_EXPIRY);
    const result = await r.resolve(
      { token },
      { refs: [{ name: "custom_acme_api_oauth", key: "CUSTOM_ACME_API_USER_TOKEN" }] },
    );
    expect(result).toMatchObject({
      __typename: "OAuthReconnectionRequiredError",
      code: "OAUTH_RECONNECTION_REQUIRED",
    });
    const user = (await connections()).find(
      (c: { providerId: string; kind: string }) =>
        c.providerId === "custom_acme_api" && c.kind === "USER",
    );
    expect(user).toMatchObject({ status: "NEEDS_RECONNECTION", needsReconnection: true });
    expect(
      (
        await r.resolve(
          { token },
          { refs: [{ name: "custom_acme_api_oauth", key: "CUSTOM_ACME_API_USER_TOKEN" }] },
        )
      ).__typename,
    ).toBe("OAuthReconnectionRequiredError");
    const types = await t.database.admin(
      `SELECT type FROM events WHERE type IN ('OAuthRefreshFailed', 'SecretsResolutionFailed') ORDER BY position`,
    );
    expect(types.map((x) => x.type)).toEqual(
      expect.arrayContaining(["OAuthRefreshFailed", "SecretsResolutionFailed"]),
    );
    // Reconnecting replaces it.
    const url = (await start(tenant.session, "custom_acme_api")).data.startOAuthAuthorization.data
      .authorizationUrl;
    expect(
      (await complete(tenant.session, await idp.approve(url))).data.completeOAuthAuthorization.data
        .status,
    ).toBe("CONNECTED");
    expect(
      (
        await r.resolve(
          { token },
          { refs: [{ name: "custom_acme_api_oauth", key: "CUSTOM_ACME_API_USER_TOKEN" }] },
        )
      ).__typename,
    ).toBe("MutationResolveSecretsSuccess");
  });
});

describe("client credentials", () => {
  it("connects a SERVICE token and resolves it alongside a stored secret in one transit call", async () => {
    const connected = await t.gql(
      `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { ${ERR} ... on MutationConnectOAuthClientCredentialsSuccess { data { kind scopes status } } } }`,
      { i: { workspaceId: tenant.workspaceId, providerId: "custom_acme_api", scopes: ["read"] } },
      tenant.session,
    );
    expect(connected.data.connectOAuthClientCredentials.data).toEqual({
      kind: "SERVICE",
      scopes: ["read"],
      status: "CONNECTED",
    });
    await t.gql(
      `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
      {
        i: {
          workspaceId: tenant.workspaceId,
          name: "plain",
          values: [{ key: "K", value: "plain-value" }],
        },
      },
      tenant.session,
    );
    await t.database.admin(
      `UPDATE oauth_connections SET expires_at = now() + interval '1 hour' WHERE kind = 'SERVICE'`,
    );
    decrypts = 0;
    const result = await r.resolve(
      { token },
      {
        arguments: {
          s: "${{ SECRETS.custom_acme_api_oauth.CUSTOM_ACME_API_SERVICE_TOKEN }}",
          p: "${{ SECRETS.plain.K }}",
        },
      },
    );
    expect(result.data.arguments.p).toBe("plain-value");
    expect(result.data.arguments.s.length).toBeGreaterThan(20);
    expect(decrypts).toBe(1);
    expect(
      result.data.values.find((v: { ref: string }) => v.ref.startsWith("custom_acme_api_oauth"))
        .dynamic,
    ).toBe("oauth");
  });
});

describe("provider management", () => {
  it("configures a built-in provider, updates a custom one, disconnects, each with its event", async () => {
    const mark = (
      await t.database.admin<{ p: string }>(`SELECT max(position)::text AS p FROM events`)
    )[0]!.p;
    const configured = await t.gql(
      `mutation($i: ConfigureOAuthProviderInput!) { configureOAuthProvider(input: $i) { ${ERR} ... on MutationConfigureOAuthProviderSuccess { data { ${PROVIDER} defaultScopes } } } }`,
      {
        i: {
          workspaceId: tenant.workspaceId,
          providerId: "microsoft_teams",
          clientId: "teams-client",
          clientSecret: "teams-secret-value",
        },
      },
      tenant.session,
    );
    expect(configured.data.configureOAuthProvider.data).toMatchObject({
      providerId: "microsoft_teams",
      builtin: true,
      configured: true,
      clientId: "teams-client",
      userTokenExpression: "${{ SECRETS.microsoft_teams_oauth.MICROSOFT_TEAMS_USER_TOKEN }}",
    });
    const updated = await t.gql(
      `mutation($i: UpdateCustomOAuthProviderInput!) { updateCustomOAuthProvider(input: $i) { ${ERR} ... on MutationUpdateCustomOAuthProviderSuccess { data { name defaultScopes } } } }`,
      {
        i: {
          workspaceId: tenant.workspaceId,
          providerId: "custom_my_custom_app",
          name: "Renamed",
          defaultScopes: ["read"],
          clientSecret: "rotated-client-secret",
        },
      },
      tenant.session,
    );
    expect(updated.data.updateCustomOAuthProvider.data).toEqual({
      name: "Renamed",
      defaultScopes: ["read"],
    });
    const service = (
      await t.gql(
        `query($id: ID!) { workspace(id: $id) { oauthConnections { id kind providerId } } }`,
        { id: tenant.workspaceId },
        tenant.session,
      )
    ).data.workspace.oauthConnections.find((c: { kind: string }) => c.kind === "SERVICE");
    const disconnected = await t.gql(
      `mutation($w: ID!, $c: ID!) { disconnectOAuth(workspaceId: $w, connectionId: $c) { ${ERR} ... on MutationDisconnectOAuthSuccess { data } } }`,
      { w: tenant.workspaceId, c: service.id },
      tenant.session,
    );
    expect(disconnected.data.disconnectOAuth.data).toBe(true);
    expect(
      (
        await r.resolve(
          { token },
          { refs: [{ name: "custom_acme_api_oauth", key: "CUSTOM_ACME_API_SERVICE_TOKEN" }] },
        )
      ).__typename,
    ).toBe("CredentialNotFoundError");
    const types = await t.database.admin<{ type: string }>(
      `SELECT type FROM events WHERE position > $1 AND type LIKE 'OAuth%' ORDER BY position`,
      [mark],
    );
    expect(types.map((x) => x.type)).toEqual([
      "OAuthProviderCreated",
      "OAuthProviderUpdated",
      "OAuthDisconnected",
    ]);
    expect(t.responses.join("\n")).not.toContain("teams-secret-value");
    expect(t.responses.join("\n")).not.toContain("rotated-client-secret");
  });
});

describe("isolation", () => {
  it("another workspace's providers and connections are invisible", async () => {
    const other = await t.createTenant();
    const start2 = await t.gql(
      `mutation($i: OAuthConnectInput!) { startOAuthAuthorization(input: $i) { ${ERR} } }`,
      { i: { workspaceId: tenant.workspaceId, providerId: "custom_acme_api" } },
      other.session,
    );
    expect(start2.data.startOAuthAuthorization.__typename).toBe("NotFoundError");
    const cc = await t.gql(
      `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { ${ERR} } }`,
      { i: { workspaceId: other.workspaceId, providerId: "custom_acme_api" } },
      other.session,
    );
    expect(cc.data.connectOAuthClientCredentials).toMatchObject({
      __typename: "NotFoundError",
      message: "OAuth provider not found",
    });
    const list = await t.gql(
      `query($id: ID!) { workspace(id: $id) { oauthConnections { providerId } } }`,
      { id: tenant.workspaceId },
      other.session,
    );
    expect(list.data.workspace).toBeNull();
    const del = await t.gql(
      `mutation($w: ID!, $p: String!) { deleteOAuthProvider(workspaceId: $w, providerId: $p) { ${ERR} } }`,
      { w: tenant.workspaceId, p: "custom_acme_api" },
      other.session,
    );
    expect(del.data.deleteOAuthProvider.__typename).toBe("NotFoundError");
    for (const [field, query, variables] of [
      [
        "updateCustomOAuthProvider",
        `mutation($i: UpdateCustomOAuthProviderInput!) { updateCustomOAuthProvider(input: $i) { ${ERR} } }`,
        { i: { workspaceId: tenant.workspaceId, providerId: "custom_acme_api", name: "x" } },
      ],
      [
        "configureOAuthProvider",
        `mutation($i: ConfigureOAuthProviderInput!) { configureOAuthProvider(input: $i) { ${ERR} } }`,
        {
          i: {
            workspaceId: tenant.workspaceId,
            providerId: "github",
            clientId: "x",
            clientSecret: "y",
          },
        },
      ],
      [
        "createCustomOAuthProvider",
        `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { ${ERR} } }`,
        {
          i: {
            workspaceId: tenant.workspaceId,
            name: "x",
            tokenEndpoint: "https://x.test/t",
            grantTypes: ["client_credentials"],
            clientId: "x",
            clientSecret: "y",
          },
        },
      ],
      [
        "disconnectOAuth",
        `mutation($w: ID!, $c: ID!) { disconnectOAuth(workspaceId: $w, connectionId: $c) { ${ERR} } }`,
        { w: tenant.workspaceId, c: "00000000-0000-0000-0000-000000000000" },
      ],
    ] as const) {
      expect((await t.gql(query, variables, other.session)).data[field].__typename, field).toBe(
        "NotFoundError",
      );
    }
    // A callback completed by a user of another organization is refused like an unknown state.
    const url = (await start(tenant.session, "custom_acme_api")).data.startOAuthAuthorization.data
      .authorizationUrl;
    expect(
      (await complete(other.session, await idp.approve(url))).data.completeOAuthAuthorization
        .__typename,
    ).toBe("ValidationError");
    const viewer = await t.addMember(tenant, "MEMBER", "VIEWER");
    const byViewer = await t.gql(
      `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { ${ERR} } }`,
      { i: { workspaceId: tenant.workspaceId, providerId: "custom_acme_api" } },
      viewer.session,
    );
    expect(byViewer.data.connectOAuthClientCredentials.__typename).toBe("ForbiddenError");
  });
});
