import type { Invitation } from "../../generated/prisma/client.ts";
import type { ORG_ROLES } from "../../domain/roles.ts";
import {
  findVisibleInvitation,
  invitationStatus,
  type InvitationStatus,
} from "../../tenancy/invitations.ts";
import { builder } from "../builder.ts";
import { OrgRoleEnum } from "./Organization.ts";

export const InvitationStatusEnum = builder.enumType("InvitationStatus", {
  values: ["PENDING", "ACCEPTED", "REVOKED", "EXPIRED"] as const,
});

export const InvitationRef = builder.objectRef<Invitation>("Invitation");

builder.node(InvitationRef, {
  description:
    "An invitation to join an organization. Its link is shown once, when issued; visible to the organization's admins.",
  id: { resolve: (i) => i.id },
  loadMany: async (ids, ctx) =>
    Promise.all(ids.map((id) => (ctx.actor ? findVisibleInvitation(ctx.db, ctx.actor, id) : null))),
  fields: (t) => ({
    email: t.exposeString("email"),
    role: t.field({ type: OrgRoleEnum, resolve: (i) => i.role as (typeof ORG_ROLES)[number] }),
    status: t.field({
      type: InvitationStatusEnum,
      resolve: (i) => invitationStatus(i, new Date()),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
  }),
});

export type InvitationPreviewShape = {
  organizationName: string;
  email: string;
  role: (typeof ORG_ROLES)[number];
  expiresAt: Date;
  status: InvitationStatus;
  accountExists: boolean;
};

export const InvitationPreviewRef = builder
  .objectRef<InvitationPreviewShape>("InvitationPreview")
  .implement({
    description: "What the holder of an invitation link sees before accepting it",
    fields: (t) => ({
      organizationName: t.exposeString("organizationName"),
      email: t.exposeString("email", { description: "The invited address" }),
      role: t.field({ type: OrgRoleEnum, resolve: (p) => p.role }),
      status: t.field({ type: InvitationStatusEnum, resolve: (p) => p.status }),
      expiresAt: t.expose("expiresAt", { type: "DateTime" }),
      accountExists: t.exposeBoolean("accountExists", {
        description:
          "The address has an account: sign in with it to accept; otherwise set a password",
      }),
    }),
  });
