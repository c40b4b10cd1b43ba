import type { Environment } from "../../generated/prisma/client.ts";
import { visibleWorkspaces } from "../../authz/visibility.ts";
import { builder } from "../builder.ts";
import { isUuid } from "../../domain/uuid.ts";

export const EnvironmentRef = builder.objectRef<Environment>("Environment");

builder.node(EnvironmentRef, {
  description:
    "A declared environment of a workspace, such as `default`, `staging` or an AWS account id",
  id: { resolve: (e) => e.id },
  loadMany: async (ids, ctx) => {
    if (!ctx.actor) return ids.map(() => null);
    const rows = await ctx.db.environment.findMany({
      where: {
        id: { in: ids.filter(isUuid) },
        workspace: visibleWorkspaces(ctx.actor),
      },
    });
    return ids.map((id) => rows.find((r) => r.id === id) ?? null);
  },
  fields: (t) => ({
    name: t.exposeString("name"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});
