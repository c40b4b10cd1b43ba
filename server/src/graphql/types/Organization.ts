import { resolveOffsetConnection } from "@pothos/plugin-relay";
import type { Organization } from "../../generated/prisma/client.ts";
import { loadOrgAccess } from "../../authz/access.ts";
import { visibleOrganizations, visibleWorkspaces } from "../../authz/visibility.ts";
import { ORG_ROLES } from "../../domain/roles.ts";
import { builder } from "../builder.ts";
import { ApiTokenRef } from "./ApiToken.ts";
import { InvitationRef } from "./Invitation.ts";
import { SingleSignOnRef } from "./SingleSignOn.ts";
import { UserRef } from "./User.ts";
import { WorkspaceRef } from "./Workspace.ts";
import { isUuid } from "../../domain/uuid.ts";

export const OrgRoleEnum = builder.enumType("OrgRole", { values: ORG_ROLES });

export type OrganizationMemberShape = {
  userId: string;
  role: string;
  addedAt: Date;
  user: { id: string; email: string; name: string };
};

export const OrganizationMemberRef = builder
  .objectRef<OrganizationMemberShape>("OrganizationMember")
  .implement({
    fields: (t) => ({
      user: t.field({ type: UserRef, resolve: (m) => m.user }),
      role: t.field({ type: OrgRoleEnum, resolve: (m) => m.role as (typeof ORG_ROLES)[number] }),
      addedAt: t.expose("addedAt", { type: "DateTime" }),
    }),
  });

export const OrganizationRef = builder.objectRef<Organization>("Organization");

builder.node(OrganizationRef, {
  id: { resolve: (o) => o.id },
  loadMany: async (ids, ctx) => {
    if (!ctx.actor) return ids.map(() => null);
    const rows = await ctx.db.organization.findMany({
      where: { id: { in: ids.filter(isUuid) }, ...visibleOrganizations(ctx.actor) },
    });
    return ids.map((id) => rows.find((r) => r.id === id) ?? null);
  },
  fields: (t) => ({
    name: t.exposeString("name"),
    slug: t.exposeString("slug"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    requireMfa: t.exposeBoolean("requireMfa", {
      description: "Members act in it only from sessions opened with a second factor",
    }),
    viewerRole: t.field({
      type: OrgRoleEnum,
      nullable: true,
      description: "The signed-in user's role; null for API tokens",
      resolve: async (o, _args, ctx) =>
        ctx.actor ? ((await loadOrgAccess(ctx.db, ctx.actor, o.id))?.orgRole ?? null) : null,
    }),
    workspaces: t.connection({
      type: WorkspaceRef,
      description: "The workspaces of this organization that the caller can see",
      resolve: (o, args, ctx) =>
        resolveOffsetConnection({ args }, ({ offset, limit }) =>
          ctx.db.workspace.findMany({
            where: { AND: [{ organizationId: o.id }, visibleWorkspaces(ctx.actor!)] },
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
            skip: offset,
            take: limit,
          }),
        ),
    }),
    apiTokens: t.connection({
      type: ApiTokenRef,
      description: "Organization-wide tokens; visible to organization admins only",
      resolve: async (o, args, ctx) => {
        const access = ctx.actor ? await loadOrgAccess(ctx.db, ctx.actor, o.id) : null;
        return resolveOffsetConnection({ args }, ({ offset, limit }) =>
          access?.permissions.has("admin")
            ? ctx.db.apiToken.findMany({
                where: { organizationId: o.id, workspaceId: null },
                orderBy: [{ createdAt: "desc" }, { id: "asc" }],
                skip: offset,
                take: limit,
              })
            : Promise.resolve([]),
        );
      },
    }),
    singleSignOn: t.field({
      type: SingleSignOnRef,
      nullable: true,
      description: "The identity provider for console sign-in; visible to organization admins only",
      resolve: async (o, _args, ctx) => {
        const access = ctx.actor ? await loadOrgAccess(ctx.db, ctx.actor, o.id) : null;
        if (!access?.permissions.has("admin")) return null;
        const sso = await ctx.db.ssoConnection.findUnique({ where: { organizationId: o.id } });
        return sso ? { ...sso, required: o.ssoRequired, slug: o.slug } : null;
      },
    }),
    invitations: t.field({
      type: [InvitationRef],
      description:
        "Invitations still waiting to be accepted, newest first; visible to organization admins only",
      resolve: async (o, _args, ctx) => {
        const access = ctx.actor ? await loadOrgAccess(ctx.db, ctx.actor, o.id) : null;
        if (!access?.permissions.has("admin")) return [];
        return ctx.db.invitation.findMany({
          where: { organizationId: o.id, status: "PENDING", expiresAt: { gt: new Date() } },
          orderBy: [{ createdAt: "desc" }, { id: "asc" }],
          take: 200,
        });
      },
    }),
    members: t.connection({
      type: OrganizationMemberRef,
      description: "Visible to members of the organization and to tokens with the admin permission",
      resolve: async (o, args, ctx) => {
        const access = ctx.actor ? await loadOrgAccess(ctx.db, ctx.actor, o.id) : null;
        const visible = access && (access.orgRole !== null || access.permissions.has("admin"));
        return resolveOffsetConnection({ args }, ({ offset, limit }) =>
          visible
            ? ctx.db.orgMember.findMany({
                where: { organizationId: o.id },
                include: { user: { select: { id: true, email: true, name: true } } },
                orderBy: [{ addedAt: "asc" }, { userId: "asc" }],
                skip: offset,
                take: limit,
              })
            : Promise.resolve([]),
        );
      },
    }),
  }),
});
