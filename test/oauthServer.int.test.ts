import * as oauth from "oauth4webapi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startOAuthServer, type OAuthServer } from "./testkit/oauthServer.ts";

// The test OAuth server (real oidc-provider on loopback) driven by oauth4webapi exactly the
// way an app does it. Plain http is allowed for loopback only, on every request.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let server: OAuthServer;
let as: oauth.AuthorizationServer;
let client: oauth.Client;
let clientAuth: oauth.ClientAuth;

async function start(options: Parameters<typeof startOAuthServer>[0] = {}) {
  server = await startOAuthServer(options);
  const issuer = new URL(server.issuer);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...insecure, algorithm: "oidc" }),
  );
  client = { client_id: server.client.clientId };
  clientAuth = oauth.ClientSecretBasic(server.client.clientSecret);
}

/** Authorization request with PKCE S256 + state, approved by the test user. */
async function authorize(scope = "openid offline_access read", login = "alice") {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: server.client.redirectUri,
    response_type: "code",
    scope,
    prompt: "consent",
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
  }).toString();
  const callbackUrl = await server.approve(url.href, { login });
  const callbackParams = oauth.validateAuthResponse(as, client, new URL(callbackUrl), state);
  return { callbackUrl, callbackParams, codeVerifier };
}

async function exchange(callbackParams: URLSearchParams, codeVerifier: string) {
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    callbackParams,
    server.client.redirectUri,
    codeVerifier,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(as, client, response);
}

async function refresh(refreshToken: string) {
  const response = await oauth.refreshTokenGrantRequest(
    as,
    client,
    clientAuth,
    refreshToken,
    insecure,
  );
  return oauth.processRefreshTokenResponse(as, client, response);
}

describe("test OAuth server (oidc-provider) with oauth4webapi", () => {
  beforeEach(() => start({ accessTokenTtlSeconds: 60 }));
  afterEach(() => server.close());

  it("publishes its endpoints through discovery", () => {
    expect(server.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(as.issuer).toBe(server.issuer);
    expect(as.authorization_endpoint).toBe(server.authorizationEndpoint);
    expect(as.token_endpoint).toBe(server.tokenEndpoint);
    expect(as.revocation_endpoint).toBe(server.revocationEndpoint);
    expect(as.jwks_uri).toBe(server.jwksUri);
    expect(as.code_challenge_methods_supported).toEqual(["S256"]);
    expect(as.grant_types_supported).toEqual(
      expect.arrayContaining(["authorization_code", "refresh_token", "client_credentials"]),
    );
  });

  it("runs authorization code + PKCE, then a refresh that rotates the refresh token", async () => {
    const { callbackUrl, callbackParams, codeVerifier } = await authorize();
    expect(callbackUrl.startsWith(`${server.client.redirectUri}?`)).toBe(true);
    expect(callbackParams.get("code")).toBeTruthy();

    const tokens = await exchange(callbackParams, codeVerifier);
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.expires_in).toBe(60);
    expect(tokens.scope?.split(" ").sort()).toEqual(["offline_access", "openid", "read"]);
    expect(oauth.getValidatedIdTokenClaims(tokens)?.sub).toBe("alice");
    const refreshToken = tokens.refresh_token!;
    expect(refreshToken).toBeTruthy();
    expect(server.tokenRequests()).toEqual({
      authorization_code: 1,
      refresh_token: 0,
      client_credentials: 0,
    });

    const refreshed = await refresh(refreshToken);
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.expires_in).toBe(60);
    // Rotation: a new refresh token every time, the old one is spent.
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(refreshToken);
    expect(server.tokenRequests()).toEqual({
      authorization_code: 1,
      refresh_token: 1,
      client_credentials: 0,
    });

    // The rotated refresh token works in turn.
    const again = await refresh(refreshed.refresh_token!);
    expect(again.access_token).toBeTruthy();
    expect(server.tokenRequests().refresh_token).toBe(2);
  });

  it("refuses an already-rotated refresh token and then kills the whole grant", async () => {
    const { callbackParams, codeVerifier } = await authorize();
    const first = (await exchange(callbackParams, codeVerifier)).refresh_token!;
    const second = (await refresh(first)).refresh_token!;

    await expect(refresh(first)).rejects.toMatchObject({ error: "invalid_grant" });
    // Reuse detection revoked the grant, so the newest refresh token is dead too.
    await expect(refresh(second)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("revokeRefreshTokens makes the next refresh fail with invalid_grant", async () => {
    const a = await authorize("openid offline_access read", "alice");
    const b = await authorize("openid offline_access write", "bob");
    const tokensA = await exchange(a.callbackParams, a.codeVerifier);
    const tokensB = await exchange(b.callbackParams, b.codeVerifier);
    const refreshedA = await refresh(tokensA.refresh_token!);

    // alice's first refresh token was rotated (consumed) and still counts as issued.
    expect(await server.revokeRefreshTokens()).toBe(3);

    // oauth4webapi surfaces the token endpoint's 400 JSON error as a ResponseBodyError.
    const error = await refresh(refreshedA.refresh_token!).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({
      code: oauth.RESPONSE_BODY_ERROR,
      error: "invalid_grant",
      status: 400,
      cause: { error: "invalid_grant" },
    });
    await expect(refresh(tokensB.refresh_token!)).rejects.toMatchObject({
      error: "invalid_grant",
    });
    expect(server.tokenRequests()).toEqual({
      authorization_code: 2,
      refresh_token: 3,
      client_credentials: 0,
    });

    // A new authorization still works afterwards.
    const c = await authorize();
    const tokensC = await exchange(c.callbackParams, c.codeVerifier);
    expect((await refresh(tokensC.refresh_token!)).access_token).toBeTruthy();
  });

  it("refuses a code redeemed with the wrong PKCE verifier", async () => {
    const { callbackParams } = await authorize();
    await expect(exchange(callbackParams, oauth.generateRandomCodeVerifier())).rejects.toSatisfy(
      (e: unknown) => e instanceof oauth.ResponseBodyError && e.error === "invalid_grant",
    );
    expect(server.tokenRequests().authorization_code).toBe(1);
  });

  it("issues client credentials tokens (client_secret_post works as well)", async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(server.client.clientSecret),
      { scope: "read" },
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.scope).toBe("read");
    expect(tokens.expires_in).toBe(60);
    expect(tokens.refresh_token).toBeUndefined();
    expect(server.tokenRequests()).toEqual({
      authorization_code: 0,
      refresh_token: 0,
      client_credentials: 1,
    });
  });

  it("follows setRedirectUri and reports a refused authorization request", async () => {
    const callback = "http://127.0.0.1:4321/api/oauth/callback/github";
    server.setRedirectUri(callback);
    expect(server.client.redirectUri).toBe(callback);
    const { callbackUrl } = await authorize();
    expect(new URL(callbackUrl).origin + new URL(callbackUrl).pathname).toBe(callback);

    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: "http://127.0.0.1:4321/elsewhere",
      response_type: "code",
      scope: "openid",
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: "S256",
    }).toString();
    await expect(server.approve(url.href)).rejects.toThrow(/invalid_redirect_uri/);
  });

  it("refuses an authorization request without PKCE", async () => {
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: server.client.redirectUri,
      response_type: "code",
      scope: "openid",
      state,
    }).toString();
    // The error goes back to the client's redirect URI, where oauth4webapi rejects it.
    const callbackUrl = await server.approve(url.href);
    expect(() => oauth.validateAuthResponse(as, client, new URL(callbackUrl), state)).toThrow(
      expect.objectContaining({ error: "invalid_request" }),
    );
  });
});

describe("test OAuth server options", () => {
  afterEach(() => server.close());

  it("takes the access token lifetime and the redirect URI at start", async () => {
    await start({ accessTokenTtlSeconds: 5, redirectUri: "http://localhost:3000/cb" });
    expect(server.client.redirectUri).toBe("http://localhost:3000/cb");
    const { callbackParams, codeVerifier } = await authorize("openid read write");
    const tokens = await exchange(callbackParams, codeVerifier);
    expect(tokens.expires_in).toBe(5);
    // issueRefreshToken: a refresh token even without offline_access.
    expect(tokens.refresh_token).toBeTruthy();
  });
});
