import type { ApiToken } from "../../generated/prisma/client.ts";
import { findVisibleToken } from "../../tenancy/apiTokens.ts";
import { PERMISSIONS } from "../../domain/roles.ts";
import { builder } from "../builder.ts";

export const PermissionEnum = builder.enumType("Permission", {
  values: Object.fromEntries(
    PERMISSIONS.map((p) => [
      p.replace(":", "_").toUpperCase(),
      { value: p, description: `\`${p}\`` },
    ]),
  ),
});

export const ApiTokenStatusEnum = builder.enumType("ApiTokenStatus", {
  values: ["ACTIVE", "REVOKED", "EXPIRED"] as const,
});

export const ApiTokenRef = builder.objectRef<ApiToken>("ApiToken");

builder.node(ApiTokenRef, {
  description: "A platform credential. The token itself is shown once, when issued.",
  id: { resolve: (t) => t.id },
  loadMany: async (ids, ctx) =>
    Promise.all(ids.map((id) => (ctx.actor ? findVisibleToken(ctx.db, ctx.actor, id) : null))),
  fields: (t) => ({
    name: t.exposeString("name"),
    prefix: t.exposeString("prefix", {
      description: "The first characters of the token, to recognise it",
    }),
    permissions: t.field({
      type: [PermissionEnum],
      resolve: (tok) => tok.permissions as (typeof PERMISSIONS)[number][],
    }),
    scope: t.string({
      description: "ORGANIZATION or WORKSPACE",
      resolve: (tok) => (tok.workspaceId ? "WORKSPACE" : "ORGANIZATION"),
    }),
    status: t.field({
      type: ApiTokenStatusEnum,
      resolve: (tok) =>
        tok.revokedAt
          ? "REVOKED"
          : tok.expiresAt && tok.expiresAt <= new Date()
            ? "EXPIRED"
            : "ACTIVE",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "Recorded with one-minute granularity",
    }),
  }),
});
