import { builder } from "../builder.ts";
import { callerOf, requestMetadata } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { UnauthenticatedError } from "../../errors/UnauthenticatedError.ts";
import { MIN_PASSWORD_LENGTH } from "../../auth/passwords.ts";
import { InvitationPreviewRef, InvitationRef } from "../types/Invitation.ts";
import { OrganizationRef, OrgRoleEnum } from "../types/Organization.ts";

const InviteOrganizationMemberInput = builder.inputType("InviteOrganizationMemberInput", {
  fields: (t) => ({
    organizationId: t.id(),
    email: t.string(),
    role: t.field({ type: OrgRoleEnum }),
  }),
});

const InviteOrganizationMemberPayload = builder
  .objectRef<{ invitationId: string; url: string }>("InviteOrganizationMemberPayload")
  .implement({
    fields: (t) => ({
      invitation: t.field({
        type: InvitationRef,
        resolve: (p, _args, ctx) =>
          ctx.db.invitation.findUniqueOrThrow({ where: { id: p.invitationId } }),
      }),
      url: t.exposeString("url", {
        description:
          "The single-use link for the invitee: shown this once, only its hash is stored. Send it to them yourself.",
      }),
    }),
  });

builder.mutationField("inviteOrganizationMember", (t) =>
  t.field({
    type: InviteOrganizationMemberPayload,
    description:
      "Invites an email address to the organization with a role: a single-use link that expires. ADMIN or OWNER, signed in; only an OWNER invites an OWNER. Inviting the same address again replaces its pending invitation.",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: InviteOrganizationMemberInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.invitations.invite(
        callerOf(ctx),
        localId(input.organizationId, "Organization"),
        input,
      ),
  }),
);

builder.mutationField("revokeInvitation", (t) =>
  t.field({
    type: InvitationRef,
    description: "Withdraws a pending invitation: its link stops working",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = await ctx.services.invitations.revoke(
        callerOf(ctx),
        localId(args.id, "Invitation"),
      );
      return ctx.db.invitation.findUniqueOrThrow({ where: { id } });
    },
  }),
);

const AcceptInvitationInput = builder.inputType("AcceptInvitationInput", {
  fields: (t) => ({
    token: t.string({ description: "The part of the link after `#`" }),
    password: t.string({
      required: false,
      description: `For an address without an account: its new password, at least ${MIN_PASSWORD_LENGTH} characters`,
    }),
    name: t.string({ required: false, description: "For a new account: your name" }),
  }),
});

builder.mutationField("acceptInvitation", (t) =>
  t.field({
    type: OrganizationRef,
    description:
      "Joins the organization an invitation is for. Signed in: with the invited address. Signed out: creates the account with `password` and signs it in (sets the session cookie). A used, withdrawn or expired link is refused.",
    errors: { types: [...COMMAND_ERRORS, UnauthenticatedError] },
    args: { input: t.arg({ type: AcceptInvitationInput }) },
    resolve: async (_root, { input }, ctx) => {
      const { organizationId, session } = await ctx.services.invitations.accept(
        ctx.actor,
        requestMetadata(ctx),
        input.token,
        input,
      );
      if (session) ctx.sessionCookie.set(session.token, session.expiresAt);
      return ctx.db.organization.findUniqueOrThrow({ where: { id: organizationId } });
    },
  }),
);

builder.queryField("invitation", (t) =>
  t.field({
    type: InvitationPreviewRef,
    nullable: true,
    description:
      "What an invitation link is for, to its holder (no sign-in needed); null for an unknown link",
    args: { token: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.services.invitations.preview(args.token),
  }),
);
