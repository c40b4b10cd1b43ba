import { resolveOffsetConnection } from "@pothos/plugin-relay";
import type { Workspace } from "../../generated/prisma/client.ts";
import { loadWorkspaceAccess } from "../../authz/access.ts";
import { visibleWorkspaces } from "../../authz/visibility.ts";
import { PERMISSIONS, WORKSPACE_ROLES } from "../../domain/roles.ts";
import { builder } from "../builder.ts";
import { ApiTokenRef, PermissionEnum } from "./ApiToken.ts";
import { EnvironmentRef } from "./Environment.ts";
import { OrganizationRef } from "./Organization.ts";
import { UserRef } from "./User.ts";
import { isUuid } from "../../domain/uuid.ts";

export const WorkspaceRoleEnum = builder.enumType("WorkspaceRole", { values: WORKSPACE_ROLES });

export const WorkspaceMemberRef = builder
  .objectRef<{ role: string; addedAt: Date; user: { id: string; email: string; name: string } }>(
    "WorkspaceMember",
  )
  .implement({
    fields: (t) => ({
      user: t.field({ type: UserRef, resolve: (m) => m.user }),
      role: t.field({
        type: WorkspaceRoleEnum,
        resolve: (m) => m.role as (typeof WORKSPACE_ROLES)[number],
      }),
      addedAt: t.expose("addedAt", { type: "DateTime" }),
    }),
  });

export const WorkspaceRef = builder.objectRef<Workspace>("Workspace");

builder.node(WorkspaceRef, {
  id: { resolve: (w) => w.id },
  loadMany: async (ids, ctx) => {
    if (!ctx.actor) return ids.map(() => null);
    const rows = await ctx.db.workspace.findMany({
      where: {
        AND: [{ id: { in: ids.filter(isUuid) } }, visibleWorkspaces(ctx.actor)],
      },
    });
    return ids.map((id) => rows.find((r) => r.id === id) ?? null);
  },
  fields: (t) => ({
    name: t.exposeString("name"),
    slug: t.exposeString("slug"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    awsExternalId: t.string({
      nullable: true,
      description:
        "Put this in the trust policy of AWS roles that Coffer assumes for this workspace. Workspace admins only (null otherwise).",
      resolve: async (w, _args, ctx) => {
        const access = ctx.actor ? await loadWorkspaceAccess(ctx.db, ctx.actor, w.id) : null;
        return access?.permissions.has("admin") ? w.awsExternalId : null;
      },
    }),
    organization: t.field({
      type: OrganizationRef,
      resolve: (w, _args, ctx) =>
        ctx.db.organization.findUniqueOrThrow({ where: { id: w.organizationId } }),
    }),
    environments: t.field({
      type: [EnvironmentRef],
      resolve: (w, _args, ctx) =>
        ctx.db.environment.findMany({ where: { workspaceId: w.id }, orderBy: { name: "asc" } }),
    }),
    viewerPermissions: t.field({
      type: [PermissionEnum],
      description: "What the caller may do in this workspace",
      resolve: async (w, _args, ctx) => {
        const access = ctx.actor ? await loadWorkspaceAccess(ctx.db, ctx.actor, w.id) : null;
        return PERMISSIONS.filter((p) => access?.permissions.has(p));
      },
    }),
    members: t.connection({
      type: WorkspaceMemberRef,
      resolve: (w, args, ctx) =>
        resolveOffsetConnection({ args }, ({ offset, limit }) =>
          ctx.db.workspaceMember.findMany({
            where: { workspaceId: w.id },
            include: { user: { select: { id: true, email: true, name: true } } },
            orderBy: [{ addedAt: "asc" }, { userId: "asc" }],
            skip: offset,
            take: limit,
          }),
        ),
    }),
    apiTokens: t.connection({
      type: ApiTokenRef,
      description: "Tokens scoped to this workspace; visible to workspace admins only",
      resolve: async (w, args, ctx) => {
        const access = ctx.actor ? await loadWorkspaceAccess(ctx.db, ctx.actor, w.id) : null;
        return resolveOffsetConnection({ args }, ({ offset, limit }) =>
          access?.permissions.has("admin")
            ? ctx.db.apiToken.findMany({
                where: { workspaceId: w.id },
                orderBy: [{ createdAt: "desc" }, { id: "asc" }],
                skip: offset,
                take: limit,
              })
            : Promise.resolve([]),
        );
      },
    }),
  }),
});
