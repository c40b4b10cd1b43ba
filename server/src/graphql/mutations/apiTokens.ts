import type { ApiToken } from "../../generated/prisma/client.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { ApiTokenRef, PermissionEnum } from "../types/ApiToken.ts";

const IssueApiTokenInput = builder.inputType("IssueApiTokenInput", {
  fields: (t) => ({
    organizationId: t.id({ required: false, description: "For an organization-wide token" }),
    workspaceId: t.id({ required: false, description: "For a token limited to one workspace" }),
    name: t.string(),
    permissions: t.field({ type: [PermissionEnum] }),
    expiresAt: t.field({ type: "DateTime", required: false }),
  }),
});

const IssueApiTokenPayload = builder
  .objectRef<{ apiToken: ApiToken; token: string }>("IssueApiTokenPayload")
  .implement({
    fields: (t) => ({
      apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.apiToken }),
      token: t.exposeString("token", {
        description:
          "The bearer token. Shown only in this response: Coffer keeps only its SHA-256.",
      }),
    }),
  });

builder.mutationField("issueApiToken", (t) =>
  t.field({
    type: IssueApiTokenPayload,
    description: "Issues a token for a platform; needs admin of the organization or workspace",
    authScopes: { user: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: IssueApiTokenInput }) },
    resolve: async (_root, { input }, ctx) => {
      if ((input.organizationId == null) === (input.workspaceId == null)) {
        throw ValidationError.fromIssues([
          { path: "input", message: "give exactly one of organizationId and workspaceId" },
        ]);
      }
      const scope =
        input.workspaceId != null
          ? { workspaceId: localId(input.workspaceId, "Workspace") }
          : { organizationId: localId(input.organizationId!, "Organization") };
      const issued = await ctx.services.apiTokens.issue(callerOf(ctx), scope, input);
      return {
        apiToken: await ctx.db.apiToken.findUniqueOrThrow({ where: { id: issued.tokenId } }),
        token: issued.token,
      };
    },
  }),
);

builder.mutationField("revokeApiToken", (t) =>
  t.field({
    type: ApiTokenRef,
    description: "Revokes a token at once; requests carrying it are refused from then on",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = localId(args.id, "ApiToken", "API token");
      await ctx.services.apiTokens.revoke(callerOf(ctx), id);
      return ctx.db.apiToken.findUniqueOrThrow({ where: { id } });
    },
  }),
);
