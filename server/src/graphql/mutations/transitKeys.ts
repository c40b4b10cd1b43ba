import { TransitError } from "../../transit/TransitError.ts";
import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { RewrapJobRef, TransitKeyStatusRef } from "../types/TransitKey.ts";

const ERRORS = [...COMMAND_ERRORS, TransitError];

builder.mutationField("rotateTransitKey", (t) =>
  t.field({
    type: TransitKeyStatusRef,
    description:
      "Adds a version to the organization's transit key; new values use it at once. Follow with rewrapSecrets.",
    authScopes: { user: true },
    errors: { types: ERRORS },
    args: { organizationId: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const organizationId = localId(args.organizationId, "Organization");
      await ctx.services.transitKeys.rotateKey(callerOf(ctx), organizationId);
      return ctx.services.transitKeys.status(organizationId);
    },
  }),
);

builder.mutationField("rewrapSecrets", (t) =>
  t.field({
    type: RewrapJobRef,
    description:
      "Starts (or resumes) moving every stored ciphertext to the newest key version; follow it in Organization.transitKey",
    authScopes: { user: true },
    errors: { types: ERRORS },
    args: { organizationId: t.arg.id() },
    resolve: async (_root, args, ctx) =>
      (
        await ctx.services.transitKeys.startRewrap(
          callerOf(ctx),
          localId(args.organizationId, "Organization"),
        )
      ).job,
  }),
);

const DeleteOrganizationInput = builder.inputType("DeleteOrganizationInput", {
  fields: (t) => ({
    organizationId: t.id(),
    confirmSlug: t.string({ description: "The organization's slug, typed again" }),
  }),
});

const DeletedOrganization = builder
  .objectRef<{ id: string; slug: string }>("DeletedOrganization")
  .implement({
    description:
      "Deleted, its tokens revoked and its transit key destroyed: its secrets can never be decrypted again",
    fields: (t) => ({ id: t.exposeID("id"), slug: t.exposeString("slug") }),
  });

builder.mutationField("deleteOrganization", (t) =>
  t.field({
    type: DeletedOrganization,
    authScopes: { user: true },
    errors: { types: ERRORS },
    args: { input: t.arg({ type: DeleteOrganizationInput }) },
    resolve: async (_root, { input }, ctx) => {
      const id = localId(input.organizationId, "Organization");
      return {
        id: input.organizationId as string,
        slug: await ctx.services.organizations.delete(callerOf(ctx), id, input.confirmSlug),
      };
    },
  }),
);
