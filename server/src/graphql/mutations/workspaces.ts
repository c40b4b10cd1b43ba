import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { EnvironmentRef } from "../types/Environment.ts";
import { WorkspaceMemberRef, WorkspaceRef, WorkspaceRoleEnum } from "../types/Workspace.ts";
import type { Context } from "../context.ts";

const CreateWorkspaceInput = builder.inputType("CreateWorkspaceInput", {
  fields: (t) => ({
    organizationId: t.id(),
    name: t.string(),
    slug: t.string({ required: false, description: "Derived from the name when omitted" }),
  }),
});

builder.mutationField("createWorkspace", (t) =>
  t.field({
    type: WorkspaceRef,
    description: "Creates a workspace with the `default` environment and its own AWS external id",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: CreateWorkspaceInput }) },
    resolve: async (_root, { input }, ctx) => {
      const id = await ctx.services.workspaces.create(
        callerOf(ctx),
        localId(input.organizationId, "Organization"),
        input,
      );
      return ctx.db.workspace.findUniqueOrThrow({ where: { id } });
    },
  }),
);

const EnvironmentInput = builder.inputType("EnvironmentInput", {
  fields: (t) => ({
    workspaceId: t.id(),
    name: t.string({
      description: "`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`, e.g. `staging` or an AWS account id",
    }),
  }),
});

builder.mutationField("declareEnvironment", (t) =>
  t.field({
    type: EnvironmentRef,
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: EnvironmentInput }) },
    resolve: async (_root, { input }, ctx) => {
      const id = await ctx.services.workspaces.declareEnvironment(
        callerOf(ctx),
        localId(input.workspaceId, "Workspace"),
        input.name,
      );
      return ctx.db.environment.findUniqueOrThrow({ where: { id } });
    },
  }),
);

builder.mutationField("deleteEnvironment", (t) =>
  t.field({
    type: WorkspaceRef,
    description: "Deletes a declared environment; `default` cannot be deleted",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: EnvironmentInput }) },
    resolve: async (_root, { input }, ctx) => {
      const workspaceId = localId(input.workspaceId, "Workspace");
      await ctx.services.workspaces.deleteEnvironment(callerOf(ctx), workspaceId, input.name);
      return ctx.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
    },
  }),
);

const WorkspaceMemberInput = builder.inputType("WorkspaceMemberInput", {
  fields: (t) => ({
    workspaceId: t.id(),
    userId: t.id(),
    role: t.field({ type: WorkspaceRoleEnum }),
  }),
});
const RemoveWorkspaceMemberInput = builder.inputType("RemoveWorkspaceMemberInput", {
  fields: (t) => ({ workspaceId: t.id(), userId: t.id() }),
});

const loadMember = (ctx: Context, workspaceId: string, userId: string) =>
  ctx.db.workspaceMember.findUniqueOrThrow({
    where: { workspaceId_userId: { workspaceId, userId } },
    include: { user: { select: { id: true, email: true, name: true } } },
  });

builder.mutationField("addWorkspaceMember", (t) =>
  t.field({
    type: WorkspaceMemberRef,
    description: "Gives a member of the organization a role in this workspace",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: WorkspaceMemberInput }) },
    resolve: async (_root, { input }, ctx) => {
      const workspaceId = localId(input.workspaceId, "Workspace");
      await ctx.services.workspaces.addMember(
        callerOf(ctx),
        workspaceId,
        String(input.userId),
        input.role,
      );
      return loadMember(ctx, workspaceId, String(input.userId));
    },
  }),
);

builder.mutationField("changeWorkspaceMemberRole", (t) =>
  t.field({
    type: WorkspaceMemberRef,
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: WorkspaceMemberInput }) },
    resolve: async (_root, { input }, ctx) => {
      const workspaceId = localId(input.workspaceId, "Workspace");
      await ctx.services.workspaces.changeMemberRole(
        callerOf(ctx),
        workspaceId,
        String(input.userId),
        input.role,
      );
      return loadMember(ctx, workspaceId, String(input.userId));
    },
  }),
);

builder.mutationField("removeWorkspaceMember", (t) =>
  t.field({
    type: WorkspaceRef,
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: RemoveWorkspaceMemberInput }) },
    resolve: async (_root, { input }, ctx) => {
      const workspaceId = localId(input.workspaceId, "Workspace");
      await ctx.services.workspaces.removeMember(callerOf(ctx), workspaceId, String(input.userId));
      return ctx.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
    },
  }),
);

builder.mutationField("rotateAwsExternalId", (t) =>
  t.field({
    type: WorkspaceRef,
    description:
      "Gives the workspace a new AWS external id; trust policies must then be updated. Workspace admins only.",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { workspaceId: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const workspaceId = localId(args.workspaceId, "Workspace");
      await ctx.services.workspaces.rotateAwsExternalId(callerOf(ctx), workspaceId);
      return ctx.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
    },
  }),
);
