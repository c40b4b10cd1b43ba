import { randomBytes } from "node:crypto";
import pLimit from "p-limit";
import * as oauth from "oauth4webapi";
import { z } from "zod";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { requirePermission, requireWorkspaceAccess } from "../authz/access.ts";
import type { Db, Tx } from "../db/database.ts";
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_NAME } from "../domain/names.ts";
import { oauthStream, type OAuthEvent } from "../domain/oauth/events.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { EgressRefusedError } from "../errors/EgressRefusedError.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { conflictOnUnique } from "../errors/prismaErrors.ts";
import { appendToStream } from "../eventstore/append.ts";
import type { OAuthConnection, OAuthProvider } from "../generated/prisma/client.ts";
import { checkDestination, isLoopbackHttp } from "../net/destinationPolicy.ts";
import type { Egress } from "../net/egress.ts";
import { parseInput } from "../tenancy/parseInput.ts";
import type { Transit } from "../transit/Transit.ts";
import { findBuiltinProvider } from "./builtinProviders.ts";
import { OAuthProviderError, OAuthReconnectionRequiredError } from "./oauthErrors.ts";
import { customProviderId } from "./providerId.ts";
import { seal, unseal } from "./sealedValues.ts";

/** Tokens expiring sooner than this are refreshed before being handed out. */
export const REFRESH_AHEAD_MS = 5 * 60_000;
const STATE_TTL_MS = 10 * 60_000;

const scopeList = z
  .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, "not a valid scope"))
  .max(50);
const customProviderInput = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100),
  authorizationEndpoint: z.string().nullish(),
  tokenEndpoint: z.string(),
  defaultScopes: scopeList.default([]),
  grantTypes: z
    .array(z.enum(["authorization_code", "client_credentials"]))
    .min(1, "name at least one grant type"),
  clientId: z.string().min(1).max(500),
  clientSecret: z.string().min(1).max(4000),
});

export type OAuthDeps = CoreDeps & {
  transit: Transit;
  publicUrl: () => string;
  /** Every request to a provider goes through it; its policy also checks endpoints when defined. */
  egress: Egress;
};

/**
 * OAuth providers and connections of a workspace: authorization code with PKCE (S256) and
 * a single-use, expiring state bound to the console session (USER tokens), client
 * credentials (SERVICE tokens), and refresh ahead of expiry under a row lock so that
 * concurrent resolutions refresh once. Uses oauth4webapi for every protocol detail.
 */
/**
 * A refresh holds a pooled connection (the transaction of its row lock) while it asks the
 * transit engine for secrets, and the embedded keyring reads through that same pool: as
 * many refreshes at once as the pool has connections would each wait for a second one, for
 * good (test/reliability/concurrency: five refreshes on a pool of four). So at most this
 * many run at once in a process; the others queue without holding a connection.
 */
const REFRESH_CONCURRENCY = 2;

export function oauthService(deps: OAuthDeps) {
  const inflight = new Map<string, Promise<OAuthConnection>>();
  const refreshSlots = pLimit(REFRESH_CONCURRENCY);
  const redirectUri = () => `${deps.publicUrl()}/oauth/callback`;

  async function record(
    tx: Tx,
    organizationId: string,
    workspaceId: string,
    caller: Caller | null,
    events: OAuthEvent[],
  ) {
    await appendToStream(tx, {
      streamId: oauthStream(workspaceId),
      organizationId,
      expectedVersion: "any",
      events,
      metadata: caller?.metadata ?? { actor: { kind: "system", id: "oauth-refresh" } },
      now: deps.clock(),
    });
  }

  async function manage(caller: Caller, workspaceId: string, what: string) {
    const access = await requireWorkspaceAccess(deps.db, caller.actor, workspaceId);
    requirePermission(access, "oauth:manage", what);
    return access;
  }

  async function providerRow(
    db: Db | Tx,
    workspaceId: string,
    providerId: string,
  ): Promise<OAuthProvider> {
    const row = await db.oAuthProvider.findFirst({
      where: { workspaceId, providerId, deletedAt: null },
    });
    if (!row) throw new NotFoundError("OAuth provider");
    return row;
  }

  function protocol(row: OAuthProvider) {
    const as: oauth.AuthorizationServer = {
      issuer: new URL(row.authorizationEndpoint ?? row.tokenEndpoint).origin,
      token_endpoint: row.tokenEndpoint,
      ...(row.authorizationEndpoint ? { authorization_endpoint: row.authorizationEndpoint } : {}),
    };
    const insecure = deps.egress.policy.allowLoopback && isLoopbackHttp(row.tokenEndpoint);
    const egress = deps.egress;
    return {
      as,
      client: { client_id: row.clientId } satisfies oauth.Client,
      options: {
        [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
          egress.fetch(url, init as Parameters<Egress["fetch"]>[1]),
        ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
      },
    };
  }

  async function clientAuth(row: OAuthProvider) {
    const [secret] = await unseal(deps.transit, row.organizationId, [
      { ciphertext: row.clientSecretCiphertext, ownerId: row.id, field: "client_secret" },
    ]);
    return oauth.ClientSecretPost(secret!);
  }

  /** Runs a token request; OAuth errors become typed errors that keep only the error code. */
  async function tokenRequest(
    providerId: string,
    request: () => Promise<oauth.TokenEndpointResponse>,
  ) {
    try {
      return await request();
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError)
        throw new OAuthProviderError(providerId, error.error);
      // Coffer itself refused to call the endpoint: say why (the reason names hosts only).
      if (error instanceof EgressRefusedError)
        throw new OAuthProviderError(providerId, "egress_refused", error.detail);
      throw new OAuthProviderError(
        providerId,
        error instanceof Error && "code" in error
          ? String((error as { code: unknown }).code)
          : "request_failed",
      );
    }
  }

  async function storeConnection(
    caller: Caller,
    provider: OAuthProvider,
    environment: string,
    kind: "USER" | "SERVICE",
    token: oauth.TokenEndpointResponse,
    requestedScopes: string[],
  ) {
    const connectionId = deps.newId();
    const now = deps.clock();
    const expiresAt = token.expires_in ? new Date(now.getTime() + token.expires_in * 1000) : null;
    const [access, refresh] = await seal(deps.transit, provider.organizationId, [
      { ownerId: connectionId, field: "access_token", value: token.access_token },
      ...(token.refresh_token
        ? [{ ownerId: connectionId, field: "refresh_token" as const, value: token.refresh_token }]
        : []),
    ]);
    const scopes = token.scope ? token.scope.split(" ").filter(Boolean) : requestedScopes;
    await deps.db.$transaction(async (tx) => {
      // Reconnecting replaces the previous connection of the same kind and environment.
      const previous = await tx.oAuthConnection.findFirst({
        where: {
          workspaceId: provider.workspaceId,
          providerId: provider.providerId,
          environment,
          kind,
          disconnectedAt: null,
        },
      });
      const events: OAuthEvent[] = [];
      if (previous) {
        await tx.oAuthConnection.update({
          where: { id: previous.id },
          data: { disconnectedAt: now, accessTokenCiphertext: null, refreshTokenCiphertext: null },
        });
        events.push({
          type: "OAuthDisconnected",
          data: { connectionId: previous.id, providerId: provider.providerId, environment, kind },
        });
      }
      await tx.oAuthConnection.create({
        data: {
          id: connectionId,
          organizationId: provider.organizationId,
          workspaceId: provider.workspaceId,
          providerId: provider.providerId,
          environment,
          kind,
          status: "CONNECTED",
          accessTokenCiphertext: access!,
          refreshTokenCiphertext: refresh ?? null,
          expiresAt,
          scopes,
          connectedBy: `${caller.metadata.actor.kind}:${caller.metadata.actor.id}`,
          connectedAt: now,
        },
      });
      events.push({
        type: "OAuthConnected",
        data: {
          connectionId,
          providerId: provider.providerId,
          environment,
          kind,
          scopes,
          expiresAt: expiresAt?.toISOString() ?? null,
        },
      });
      await record(tx, provider.organizationId, provider.workspaceId, caller, events);
    });
    return deps.db.oAuthConnection.findUniqueOrThrow({ where: { id: connectionId } });
  }

  const checkEnvironment = (environment: string | null | undefined) => {
    const env = environment ?? DEFAULT_ENVIRONMENT;
    if (!ENVIRONMENT_NAME.test(env))
      throw ValidationError.fromIssues([
        { path: "environment", message: "is not a valid environment name" },
      ]);
    return env;
  };

  return {
    /**
     * A custom provider; its id is derived from the name (seed 001). Needs workspace `admin`,
     * not just `oauth:manage`: its endpoints decide where Coffer's servers send requests (with
     * EGRESS_ALLOW_CIDRS, possibly inside the operator's network), the same power as a
     * webhook receiver, which needs organization admin.
     */
    async createCustomProvider(
      caller: Caller,
      workspaceId: string,
      raw: z.input<typeof customProviderInput>,
    ) {
      const access = await requireWorkspaceAccess(deps.db, caller.actor, workspaceId);
      requirePermission(access, "admin", "Defining a custom OAuth provider's endpoints");
      const input = parseInput(customProviderInput, raw);
      const authorizationEndpoint = input.authorizationEndpoint
        ? checkDestination("authorizationEndpoint", input.authorizationEndpoint, deps.egress.policy)
        : null;
      const tokenEndpoint = checkDestination(
        "tokenEndpoint",
        input.tokenEndpoint,
        deps.egress.policy,
      );
      if (input.grantTypes.includes("authorization_code") && !authorizationEndpoint) {
        throw ValidationError.fromIssues([
          {
            path: "authorizationEndpoint",
            message: "is required for the authorization_code grant",
          },
        ]);
      }
      const id = deps.newId();
      const [clientSecretCiphertext] = await seal(deps.transit, access.organizationId, [
        { ownerId: id, field: "client_secret", value: input.clientSecret },
      ]);
      return deps.db.$transaction(async (tx) => {
        const taken = new Set(
          (
            await tx.oAuthProvider.findMany({
              where: { workspaceId, deletedAt: null },
              select: { providerId: true },
            })
          ).map((p) => p.providerId),
        );
        const providerId = customProviderId(input.name, taken);
        const now = deps.clock();
        const row = await conflictOnUnique(
          () =>
            tx.oAuthProvider.create({
              data: {
                id,
                organizationId: access.organizationId,
                workspaceId,
                providerId,
                builtin: false,
                name: input.name,
                authorizationEndpoint,
                tokenEndpoint,
                defaultScopes: input.defaultScopes,
                grantTypes: input.grantTypes,
                clientId: input.clientId,
                clientSecretCiphertext: clientSecretCiphertext!,
                createdAt: now,
                updatedAt: now,
              },
            }),
          `A provider with the id ${providerId} already exists`,
        );
        await record(tx, access.organizationId, workspaceId, caller, [
          {
            type: "OAuthProviderCreated",
            data: {
              providerId,
              name: input.name,
              builtin: false,
              authorizationEndpoint,
              tokenEndpoint,
              defaultScopes: input.defaultScopes,
              grantTypes: input.grantTypes,
              clientId: input.clientId,
            },
          },
        ]);
        return row;
      });
    },

    /** The OAuth client (id + secret) of a built-in provider for this workspace. */
    async configureBuiltinProvider(
      caller: Caller,
      workspaceId: string,
      input: {
        providerId: string;
        clientId: string;
        clientSecret: string;
        defaultScopes?: string[] | null | undefined;
      },
    ) {
      const access = await manage(caller, workspaceId, "Managing OAuth providers");
      const definition = findBuiltinProvider(input.providerId);
      if (!definition) throw new NotFoundError("OAuth provider");
      const scopes = parseInput(scopeList, input.defaultScopes ?? definition.defaultScopes);
      const existing = await deps.db.oAuthProvider.findFirst({
        where: { workspaceId, providerId: definition.providerId, deletedAt: null },
      });
      const id = existing?.id ?? deps.newId();
      const [clientSecretCiphertext] = await seal(deps.transit, access.organizationId, [
        { ownerId: id, field: "client_secret", value: input.clientSecret },
      ]);
      return deps.db.$transaction(async (tx) => {
        const now = deps.clock();
        const data = {
          clientId: input.clientId,
          clientSecretCiphertext: clientSecretCiphertext!,
          defaultScopes: scopes,
          updatedAt: now,
        };
        const row = existing
          ? await tx.oAuthProvider.update({ where: { id }, data })
          : await tx.oAuthProvider.create({
              data: {
                id,
                organizationId: access.organizationId,
                workspaceId,
                providerId: definition.providerId,
                builtin: true,
                name: definition.name,
                authorizationEndpoint: definition.authorizationEndpoint,
                tokenEndpoint: definition.tokenEndpoint,
                grantTypes: definition.grantTypes,
                createdAt: now,
                ...data,
              },
            });
        await record(tx, access.organizationId, workspaceId, caller, [
          existing
            ? {
                type: "OAuthProviderUpdated",
                data: {
                  providerId: definition.providerId,
                  changed: ["clientId", "clientSecret", "defaultScopes"],
                },
              }
            : {
                type: "OAuthProviderCreated",
                data: {
                  providerId: definition.providerId,
                  name: definition.name,
                  builtin: true,
                  authorizationEndpoint: definition.authorizationEndpoint,
                  tokenEndpoint: definition.tokenEndpoint,
                  defaultScopes: scopes,
                  grantTypes: definition.grantTypes,
                  clientId: input.clientId,
                },
              },
        ]);
        return row;
      });
    },

    async updateCustomProvider(
      caller: Caller,
      workspaceId: string,
      providerId: string,
      input: {
        name?: string | null;
        defaultScopes?: string[] | null;
        clientId?: string | null;
        clientSecret?: string | null;
      },
    ) {
      const access = await manage(caller, workspaceId, "Managing OAuth providers");
      const row = await providerRow(deps.db, workspaceId, providerId);
      if (row.builtin)
        throw new ValidationError("Built-in providers are changed with configureOAuthProvider");
      const [ciphertext] = input.clientSecret
        ? await seal(deps.transit, access.organizationId, [
            { ownerId: row.id, field: "client_secret", value: input.clientSecret },
          ])
        : [];
      const changed = Object.entries(input)
        .filter(([, v]) => v != null)
        .map(([k]) => k);
      return deps.db.$transaction(async (tx) => {
        const updated = await tx.oAuthProvider.update({
          where: { id: row.id },
          data: {
            ...(input.name ? { name: input.name } : {}),
            ...(input.defaultScopes
              ? { defaultScopes: parseInput(scopeList, input.defaultScopes) }
              : {}),
            ...(input.clientId ? { clientId: input.clientId } : {}),
            ...(ciphertext ? { clientSecretCiphertext: ciphertext } : {}),
            updatedAt: deps.clock(),
          },
        });
        await record(tx, access.organizationId, workspaceId, caller, [
          { type: "OAuthProviderUpdated", data: { providerId, changed } },
        ]);
        return updated;
      });
    },

    /** Deletes a provider and disconnects its connections (their tokens are dropped). */
    async deleteProvider(caller: Caller, workspaceId: string, providerId: string) {
      const access = await manage(caller, workspaceId, "Managing OAuth providers");
      const row = await providerRow(deps.db, workspaceId, providerId);
      await deps.db.$transaction(async (tx) => {
        const now = deps.clock();
        const connections = await tx.oAuthConnection.findMany({
          where: { workspaceId, providerId, disconnectedAt: null },
        });
        await tx.oAuthConnection.updateMany({
          where: { workspaceId, providerId, disconnectedAt: null },
          data: { disconnectedAt: now, accessTokenCiphertext: null, refreshTokenCiphertext: null },
        });
        await tx.oAuthProvider.update({
          where: { id: row.id },
          data: { deletedAt: now, updatedAt: now },
        });
        await record(tx, access.organizationId, workspaceId, caller, [
          ...connections.map((c): OAuthEvent => ({
            type: "OAuthDisconnected",
            data: {
              connectionId: c.id,
              providerId,
              environment: c.environment,
              kind: c.kind as "USER" | "SERVICE",
            },
          })),
          { type: "OAuthProviderDeleted", data: { providerId } },
        ]);
      });
    },

    /**
     * Starts the authorization-code flow for the signed-in user: a fresh PKCE verifier and
     * an unguessable state, stored server-side, bound to this session, single-use, expiring.
     */
    async startAuthorization(
      caller: Caller,
      workspaceId: string,
      input: {
        providerId: string;
        environment?: string | null | undefined;
        scopes?: string[] | null | undefined;
      },
    ) {
      if (caller.actor.kind !== "user")
        throw new ForbiddenError("Connecting an account needs a signed-in user");
      await manage(caller, workspaceId, "Connecting OAuth accounts");
      const environment = checkEnvironment(input.environment);
      const row = await providerRow(deps.db, workspaceId, input.providerId);
      if (!row.grantTypes.includes("authorization_code") || !row.authorizationEndpoint)
        throw new ValidationError(
          `${row.providerId} does not support the authorization code grant`,
        );
      const scopes = parseInput(scopeList, input.scopes ?? row.defaultScopes);
      const state = randomBytes(32).toString("base64url");
      const codeVerifier = oauth.generateRandomCodeVerifier();
      await deps.db.oAuthState.create({
        data: {
          state,
          sessionId: caller.actor.sessionId,
          userId: caller.actor.userId,
          workspaceId,
          providerId: row.providerId,
          environment,
          codeVerifier,
          scopes,
          expiresAt: new Date(deps.clock().getTime() + STATE_TTL_MS),
        },
      });
      const url = new URL(row.authorizationEndpoint);
      url.searchParams.set("client_id", row.clientId);
      url.searchParams.set("redirect_uri", redirectUri());
      url.searchParams.set("response_type", "code");
      url.searchParams.set("state", state);
      url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
      url.searchParams.set("code_challenge_method", "S256");
      if (scopes.length) url.searchParams.set("scope", scopes.join(" "));
      for (const [k, v] of Object.entries(
        findBuiltinProvider(row.providerId)?.authorizationParams ?? { prompt: "consent" },
      ))
        url.searchParams.set(k, v);
      return url.toString();
    },

    /**
     * The redirect back from the provider, completed by the same console session: the state
     * must exist, be unused, unexpired and belong to this session; then the code is
     * exchanged with the PKCE verifier.
     */
    async completeAuthorization(caller: Caller, callback: URLSearchParams) {
      if (caller.actor.kind !== "user")
        throw new ForbiddenError("Completing a connection needs the signed-in user who started it");
      const state = callback.get("state") ?? "";
      const now = deps.clock();
      // Consume the state first (single use), whatever happens next.
      const consumed = await deps.db.oAuthState.updateMany({
        where: { state, usedAt: null, expiresAt: { gt: now }, sessionId: caller.actor.sessionId },
        data: { usedAt: now },
      });
      if (consumed.count !== 1)
        throw new ValidationError(
          "This authorization is unknown, expired, already used, or was started in another session; start again",
        );
      const flow = await deps.db.oAuthState.findUniqueOrThrow({ where: { state } });
      await manage(caller, flow.workspaceId, "Connecting OAuth accounts");
      const row = await providerRow(deps.db, flow.workspaceId, flow.providerId);
      const { as, client, options } = protocol(row);
      let params: URLSearchParams;
      try {
        params = oauth.validateAuthResponse(as, client, callback, state);
      } catch (error) {
        throw new OAuthProviderError(
          row.providerId,
          error instanceof oauth.AuthorizationResponseError ? error.error : "invalid_response",
        );
      }
      const auth = await clientAuth(row);
      const token = await tokenRequest(row.providerId, async () =>
        oauth.processAuthorizationCodeResponse(
          as,
          client,
          await oauth.authorizationCodeGrantRequest(
            as,
            client,
            auth,
            params,
            redirectUri(),
            flow.codeVerifier,
            options,
          ),
        ),
      );
      return storeConnection(caller, row, flow.environment, "USER", token, flow.scopes);
    },

    /** A SERVICE token through the client credentials grant. */
    async connectClientCredentials(
      caller: Caller,
      workspaceId: string,
      input: {
        providerId: string;
        environment?: string | null | undefined;
        scopes?: string[] | null | undefined;
      },
    ) {
      await manage(caller, workspaceId, "Connecting OAuth accounts");
      const environment = checkEnvironment(input.environment);
      const row = await providerRow(deps.db, workspaceId, input.providerId);
      if (!row.grantTypes.includes("client_credentials"))
        throw new ValidationError(
          `${row.providerId} does not support the client credentials grant`,
        );
      const scopes = parseInput(scopeList, input.scopes ?? row.defaultScopes);
      const token = await serviceToken(row, scopes);
      return storeConnection(caller, row, environment, "SERVICE", token, scopes);
    },

    async disconnect(caller: Caller, workspaceId: string, connectionId: string) {
      const access = await manage(caller, workspaceId, "Disconnecting OAuth accounts");
      await deps.db.$transaction(async (tx) => {
        const row = await tx.oAuthConnection.findFirst({
          where: { id: connectionId, workspaceId, disconnectedAt: null },
        });
        if (!row) throw new NotFoundError("OAuth connection");
        await tx.oAuthConnection.update({
          where: { id: row.id },
          data: {
            disconnectedAt: deps.clock(),
            accessTokenCiphertext: null,
            refreshTokenCiphertext: null,
          },
        });
        await record(tx, access.organizationId, workspaceId, caller, [
          {
            type: "OAuthDisconnected",
            data: {
              connectionId: row.id,
              providerId: row.providerId,
              environment: row.environment,
              kind: row.kind as "USER" | "SERVICE",
            },
          },
        ]);
      });
    },

    /**
     * A connection whose token expires within REFRESH_AHEAD_MS is refreshed under a row
     * lock: concurrent callers wait, re-read, and find it already fresh, so the provider
     * sees one refresh. invalid_grant clears the refresh token and marks the connection as
     * needing reconnection.
     */
    async refreshIfNeeded(connection: OAuthConnection): Promise<OAuthConnection> {
      if (!needsRefresh(connection, deps.clock())) return connection;
      // In this process, callers share one refresh (single flight): waiting on the row lock
      // would otherwise hold one pooled connection per waiter. Across processes the row
      // lock below does the same job.
      const running = inflight.get(connection.id);
      if (running) return running;
      const refresh = refreshSlots(() => lockedRefresh(connection)).finally(() =>
        inflight.delete(connection.id),
      );
      inflight.set(connection.id, refresh);
      return refresh;
    },
  };

  async function lockedRefresh(connection: OAuthConnection): Promise<OAuthConnection> {
    let failure: Error | null = null;
    const fresh = await deps.db.$transaction(
      async (tx) => {
        const [locked] = await tx.$queryRaw<
          { id: string }[]
        >`SELECT id::text FROM oauth_connections WHERE id = ${connection.id}::uuid FOR UPDATE`;
        if (!locked) throw new NotFoundError("OAuth connection");
        const row = await tx.oAuthConnection.findUniqueOrThrow({ where: { id: connection.id } });
        if (row.disconnectedAt || row.status !== "CONNECTED" || !needsRefresh(row, deps.clock()))
          return row;
        const provider = await providerRow(tx, row.workspaceId, row.providerId);
        try {
          let token: oauth.TokenEndpointResponse;
          if (row.kind === "SERVICE") {
            token = await serviceToken(provider, row.scopes);
          } else {
            if (!row.refreshTokenCiphertext)
              throw new OAuthReconnectionRequiredError(row.providerId, row.environment);
            const [refreshToken] = await unseal(deps.transit, row.organizationId, [
              { ciphertext: row.refreshTokenCiphertext, ownerId: row.id, field: "refresh_token" },
            ]);
            const { as, client, options } = protocol(provider);
            const auth = await clientAuth(provider);
            token = await tokenRequest(row.providerId, async () =>
              oauth.processRefreshTokenResponse(
                as,
                client,
                await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken!, options),
              ),
            );
          }
          const now = deps.clock();
          const expiresAt = token.expires_in
            ? new Date(now.getTime() + token.expires_in * 1000)
            : null;
          const [access, refresh] = await seal(deps.transit, row.organizationId, [
            { ownerId: row.id, field: "access_token", value: token.access_token },
            ...(token.refresh_token
              ? [{ ownerId: row.id, field: "refresh_token" as const, value: token.refresh_token }]
              : []),
          ]);
          const updated = await tx.oAuthConnection.update({
            where: { id: row.id },
            data: {
              accessTokenCiphertext: access!,
              ...(refresh ? { refreshTokenCiphertext: refresh } : {}),
              expiresAt,
              refreshedAt: now,
            },
          });
          await record(tx, row.organizationId, row.workspaceId, null, [
            {
              type: "OAuthTokenRefreshed",
              data: {
                connectionId: row.id,
                providerId: row.providerId,
                expiresAt: expiresAt?.toISOString() ?? null,
              },
            },
          ]);
          return updated;
        } catch (error) {
          const invalidGrant =
            error instanceof OAuthReconnectionRequiredError ||
            (error instanceof OAuthProviderError && error.oauthError === "invalid_grant");
          if (!invalidGrant) throw error;
          failure = new OAuthReconnectionRequiredError(row.providerId, row.environment);
          const updated = await tx.oAuthConnection.update({
            where: { id: row.id },
            data: { status: "NEEDS_RECONNECTION", refreshTokenCiphertext: null },
          });
          await record(tx, row.organizationId, row.workspaceId, null, [
            {
              type: "OAuthRefreshFailed",
              data: {
                connectionId: row.id,
                providerId: row.providerId,
                error: "invalid_grant",
                needsReconnection: true,
              },
            },
          ]);
          return updated;
        }
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
    if (failure) throw failure;
    return fresh;
  }

  async function serviceToken(row: OAuthProvider, scopes: string[]) {
    const { as, client, options } = protocol(row);
    const auth = await clientAuth(row);
    return tokenRequest(row.providerId, async () =>
      oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(
          as,
          client,
          auth,
          new URLSearchParams(scopes.length ? { scope: scopes.join(" ") } : {}),
          options,
        ),
      ),
    );
  }
}

/**
 * Refresh when less than REFRESH_AHEAD_MS is left — or, for tokens that live shorter than
 * twice that, when less than half their lifetime is left. (With a fixed window, a token
 * issued for a minute would be "expiring" from birth and refreshed on every use.)
 */
export function needsRefresh(
  connection: Pick<OAuthConnection, "expiresAt" | "connectedAt" | "refreshedAt">,
  now: Date,
): boolean {
  if (connection.expiresAt === null) return false;
  const issuedAt = (connection.refreshedAt ?? connection.connectedAt).getTime();
  const lifetime = connection.expiresAt.getTime() - issuedAt;
  const threshold = Math.min(REFRESH_AHEAD_MS, Math.max(0, lifetime) / 2);
  return connection.expiresAt.getTime() - now.getTime() < threshold;
}

export type OAuthService = ReturnType<typeof oauthService>;
