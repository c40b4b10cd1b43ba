import type { OAuthConnection, OAuthProvider } from "../../generated/prisma/client.ts";
import { loadWorkspaceAccess } from "../../authz/access.ts";
import { ForbiddenError } from "../../errors/ForbiddenError.ts";
import { BUILTIN_PROVIDERS } from "../../oauth/builtinProviders.ts";
import { OAuthProviderError, OAuthReconnectionRequiredError } from "../../oauth/oauthErrors.ts";
import { oauthSecretName, oauthTokenKey } from "../../oauth/providerId.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { ErrorInterface } from "../errors.ts";
import { WorkspaceRef } from "./Workspace.ts";

type ProviderView = {
  providerId: string;
  name: string;
  builtin: boolean;
  configured: boolean;
  authorizationEndpoint: string | null;
  tokenEndpoint: string;
  defaultScopes: string[];
  grantTypes: string[];
  clientId: string | null;
};

builder.objectType(OAuthReconnectionRequiredError, {
  name: "OAuthReconnectionRequiredError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    providerId: t.exposeString("providerId"),
    environment: t.exposeString("environment"),
  }),
});
builder.objectType(OAuthProviderError, {
  name: "OAuthProviderError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    providerId: t.exposeString("providerId"),
    oauthError: t.exposeString("oauthError"),
  }),
});

export const OAuthProviderRef = builder.objectRef<ProviderView>("OAuthProvider").implement({
  description: "A built-in or custom OAuth provider. The client secret is write-only.",
  fields: (t) => ({
    providerId: t.exposeString("providerId"),
    name: t.exposeString("name"),
    builtin: t.exposeBoolean("builtin"),
    configured: t.exposeBoolean("configured", {
      description: "Whether this workspace has an OAuth client for it",
    }),
    authorizationEndpoint: t.exposeString("authorizationEndpoint", { nullable: true }),
    tokenEndpoint: t.exposeString("tokenEndpoint"),
    defaultScopes: t.exposeStringList("defaultScopes"),
    grantTypes: t.exposeStringList("grantTypes"),
    clientId: t.exposeString("clientId", { nullable: true }),
    userTokenExpression: t.string({
      resolve: (p) =>
        `\${{ SECRETS.${oauthSecretName(p.providerId)}.${oauthTokenKey(p.providerId, "USER")} }}`,
    }),
    serviceTokenExpression: t.string({
      resolve: (p) =>
        `\${{ SECRETS.${oauthSecretName(p.providerId)}.${oauthTokenKey(p.providerId, "SERVICE")} }}`,
    }),
  }),
});

export const toProviderView = (row: OAuthProvider): ProviderView => ({
  providerId: row.providerId,
  name: row.name,
  builtin: row.builtin,
  configured: true,
  authorizationEndpoint: row.authorizationEndpoint,
  tokenEndpoint: row.tokenEndpoint,
  defaultScopes: row.defaultScopes,
  grantTypes: row.grantTypes,
  clientId: row.clientId,
});

export const OAuthConnectionRef = builder.objectRef<OAuthConnection>("OAuthConnection").implement({
  description: "A token held for the workspace. Token values are never returned here.",
  fields: (t) => ({
    id: t.exposeID("id"),
    providerId: t.exposeString("providerId"),
    environment: t.exposeString("environment"),
    kind: t.exposeString("kind", {
      description: "USER (authorization code) or SERVICE (client credentials)",
    }),
    status: t.exposeString("status", { description: "CONNECTED or NEEDS_RECONNECTION" }),
    needsReconnection: t.boolean({ resolve: (c) => c.status === "NEEDS_RECONNECTION" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    scopes: t.exposeStringList("scopes"),
    connectedAt: t.expose("connectedAt", { type: "DateTime" }),
    refreshedAt: t.expose("refreshedAt", { type: "DateTime", nullable: true }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true }),
    expression: t.string({
      resolve: (c) =>
        `\${{ SECRETS.${oauthSecretName(c.providerId)}.${oauthTokenKey(c.providerId, c.kind as "USER" | "SERVICE")} }}`,
    }),
  }),
});

async function requireRead(ctx: Context, workspaceId: string) {
  const access = ctx.actor ? await loadWorkspaceAccess(ctx.db, ctx.actor, workspaceId) : null;
  if (!access?.permissions.has("secrets:read"))
    throw new ForbiddenError('OAuth providers and connections need the "secrets:read" permission');
}

builder.objectFields(WorkspaceRef, (t) => ({
  oauthProviders: t.field({
    type: [OAuthProviderRef],
    description: "Built-in providers (configured or not) and this workspace's custom providers",
    resolve: async (w, _args, ctx) => {
      await requireRead(ctx, w.id);
      const rows = await ctx.db.oAuthProvider.findMany({
        where: { workspaceId: w.id, deletedAt: null },
        orderBy: { providerId: "asc" },
      });
      const builtins = BUILTIN_PROVIDERS.map((d) => {
        const row = rows.find((r) => r.providerId === d.providerId);
        return row
          ? toProviderView(row)
          : { ...d, builtin: true, configured: false, clientId: null };
      });
      return [...builtins, ...rows.filter((r) => !r.builtin).map(toProviderView)];
    },
  }),
  oauthConnections: t.field({
    type: [OAuthConnectionRef],
    resolve: async (w, _args, ctx) => {
      await requireRead(ctx, w.id);
      return ctx.db.oAuthConnection.findMany({
        where: { workspaceId: w.id, disconnectedAt: null },
        orderBy: [{ providerId: "asc" }, { environment: "asc" }, { kind: "asc" }],
      });
    },
  }),
}));
