import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { OrganizationMemberRef, OrganizationRef, OrgRoleEnum } from "../types/Organization.ts";

const CreateOrganizationInput = builder.inputType("CreateOrganizationInput", {
  fields: (t) => ({
    name: t.string(),
    slug: t.string({ required: false, description: "Derived from the name when omitted" }),
  }),
});

builder.mutationField("createOrganization", (t) =>
  t.field({
    type: OrganizationRef,
    description: "Creates an organization; the signed-in user becomes its OWNER",
    authScopes: { user: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: CreateOrganizationInput }) },
    resolve: async (_root, { input }, ctx) => {
      const id = await ctx.services.organizations.create(callerOf(ctx), input);
      return ctx.db.organization.findUniqueOrThrow({ where: { id } });
    },
  }),
);

const MemberRoleInput = builder.inputType("ChangeOrganizationMemberRoleInput", {
  fields: (t) => ({ organizationId: t.id(), userId: t.id(), role: t.field({ type: OrgRoleEnum }) }),
});

builder.mutationField("changeOrganizationMemberRole", (t) =>
  t.field({
    type: OrganizationMemberRef,
    description: "Only an OWNER can grant or take away the OWNER role; the last OWNER stays",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: MemberRoleInput }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = localId(input.organizationId, "Organization");
      const userId = String(input.userId);
      await ctx.services.organizations.changeMemberRole(
        callerOf(ctx),
        organizationId,
        userId,
        input.role,
      );
      return ctx.db.orgMember.findUniqueOrThrow({
        where: { organizationId_userId: { organizationId, userId } },
        include: { user: { select: { id: true, email: true, name: true } } },
      });
    },
  }),
);

const RemoveMemberInput = builder.inputType("RemoveOrganizationMemberInput", {
  fields: (t) => ({ organizationId: t.id(), userId: t.id() }),
});

const EndMemberSessionsInput = builder.inputType("EndOrganizationMemberSessionsInput", {
  fields: (t) => ({ organizationId: t.id(), userId: t.id({ description: "User.id" }) }),
});

builder.mutationField("endOrganizationMemberSessions", (t) =>
  t.field({
    type: OrganizationRef,
    description:
      "Signs a member out of the console everywhere (their API tokens are separate); only an OWNER ends an OWNER's sessions",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: EndMemberSessionsInput }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = localId(input.organizationId, "Organization");
      await ctx.services.organizations.endMemberSessions(
        callerOf(ctx),
        organizationId,
        String(input.userId),
      );
      return ctx.db.organization.findUniqueOrThrow({ where: { id: organizationId } });
    },
  }),
);

const SetMfaRequirementInput = builder.inputType("SetOrganizationMfaRequirementInput", {
  fields: (t) => ({ organizationId: t.id(), required: t.boolean() }),
});

builder.mutationField("setOrganizationMfaRequirement", (t) =>
  t.field({
    type: OrganizationRef,
    description:
      "Requires (or stops requiring) members to sign in with a second factor to act in the organization. ADMIN or OWNER; turning it on needs your own session to be two-factor",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: SetMfaRequirementInput }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = localId(input.organizationId, "Organization");
      await ctx.services.organizations.setMfaRequirement(
        callerOf(ctx),
        organizationId,
        input.required,
      );
      return ctx.db.organization.findUniqueOrThrow({ where: { id: organizationId } });
    },
  }),
);

builder.mutationField("removeOrganizationMember", (t) =>
  t.field({
    type: OrganizationRef,
    description:
      "Removes a member (and their workspace memberships); the last OWNER cannot be removed",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: RemoveMemberInput }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = localId(input.organizationId, "Organization");
      await ctx.services.organizations.removeMember(
        callerOf(ctx),
        organizationId,
        String(input.userId),
      );
      return ctx.db.organization.findUniqueOrThrow({ where: { id: organizationId } });
    },
  }),
);
