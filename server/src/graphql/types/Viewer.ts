import type { Actor } from "../../authz/Actor.ts";
import { visibleOrganizations } from "../../authz/visibility.ts";
import { builder } from "../builder.ts";
import { PermissionEnum } from "./ApiToken.ts";
import { OrganizationRef } from "./Organization.ts";
import { SessionRef } from "./Session.ts";
import { UserRef } from "./User.ts";

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
