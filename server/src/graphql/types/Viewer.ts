import type { Actor } from "../../authz/Actor.ts";
import { visibleOrganizations } from "../../authz/visibility.ts";
import { builder } from "../builder.ts";
import { PermissionEnum } from "./ApiToken.ts";
import { OrganizationRef } from "./Organization.ts";
import { SessionRef } from "./Session.ts";
import { UserRef } from "./User.ts";

const MfaStatus = builder
  .objectRef<{ enabled: boolean; enabledAt: Date | null; recoveryCodesRemaining: number }>(
    "MfaStatus",
  )
  .implement({
    fields: (t) => ({
      enabled: t.exposeBoolean("enabled", { description: "Two-factor sign-in (TOTP) is on" }),
      enabledAt: t.expose("enabledAt", { type: "DateTime", nullable: true }),
      recoveryCodesRemaining: t.exposeInt("recoveryCodesRemaining"),
    }),
  });

export const ViewerRef = builder.objectRef<Actor>("Viewer").implement({
  description: "The authenticated caller: a signed-in user or an API token",
  fields: (t) => ({
    kind: t.string({
      description: "USER or API_TOKEN",
      resolve: (a) => (a.kind === "user" ? "USER" : "API_TOKEN"),
    }),
    user: t.field({
      type: UserRef,
      nullable: true,
      resolve: (a, _args, ctx) =>
        a.kind === "user"
          ? ctx.db.user.findUnique({
              where: { id: a.userId },
              select: { id: true, email: true, name: true },
            })
          : null,
    }),
    tokenPermissions: t.field({
      type: [PermissionEnum],
      description: "For API tokens: the permissions it carries",
      resolve: (a) => (a.kind === "token" ? [...a.permissions] : []),
    }),
    mfa: t.field({
      type: MfaStatus,
      nullable: true,
      description: "For a signed-in user: their two-factor sign-in; null for API tokens",
      resolve: (a, _args, ctx) => (a.kind === "user" ? ctx.services.mfa.status(a.userId) : null),
    }),
    sessionMfaVerified: t.boolean({
      description: "For a signed-in user: this session was opened with a second factor",
      resolve: (a) => a.kind === "user" && a.mfa,
    }),
    sessions: t.field({
      type: [SessionRef],
      description: "For a signed-in user: their console sessions that still work, newest first",
      resolve: (a, _args, ctx) => ctx.services.sessions.list(a),
    }),
    organizations: t.field({
      type: [OrganizationRef],
      resolve: (a, _args, ctx) =>
        ctx.db.organization.findMany({ where: visibleOrganizations(a), orderBy: { name: "asc" } }),
    }),
  }),
});
