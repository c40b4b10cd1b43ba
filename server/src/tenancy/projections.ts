import type { Tx } from "../db/database.ts";
import { assertNever } from "../domain/decider.ts";
import type { ApiTokenEvent } from "../domain/apiToken/events.ts";
import type { InvitationEvent } from "../domain/invitation/events.ts";
import type { OrganizationEvent } from "../domain/organization/events.ts";
import type { WorkspaceEvent } from "../domain/workspace/events.ts";
import { conflictOnUnique } from "../errors/prismaErrors.ts";
import { organizationKeyName } from "../transit/Transit.ts";

/**
 * Projections of the tenancy aggregates. Each function writes exactly what its events
 * say; they run inside the command's transaction, and again on replay.
 */
export function projectOrganization(organizationId: string) {
  return async (tx: Tx, events: OrganizationEvent[], now: Date): Promise<void> => {
    for (const event of events) {
      switch (event.type) {
        case "OrganizationCreated":
          await conflictOnUnique(
            () =>
              tx.organization.create({
                data: {
                  id: organizationId,
                  name: event.data.name,
                  slug: event.data.slug,
                  transitKey: organizationKeyName(organizationId),
                  createdAt: now,
                  version: 0,
                },
              }),
            `An organization with the slug "${event.data.slug}" already exists`,
          );
          await tx.orgMember.create({
            data: { organizationId, userId: event.data.ownerUserId, role: "OWNER", addedAt: now },
          });
          break;
        case "OrgMemberAdded":
          await tx.orgMember.create({
            data: {
              organizationId,
              userId: event.data.userId,
              role: event.data.role,
              addedAt: now,
            },
          });
          break;
        case "OrgMemberRoleChanged":
          await tx.orgMember.update({
            where: { organizationId_userId: { organizationId, userId: event.data.userId } },
            data: { role: event.data.to },
          });
          break;
        case "OrganizationDeleted":
          // Its tokens stop working at once; its secrets become undecryptable once the
          // transit key is destroyed right after this commit (crypto-shredding).
          await tx.organization.update({ where: { id: organizationId }, data: { deletedAt: now } });
          await tx.apiToken.updateMany({
            where: { organizationId, revokedAt: null },
            data: { revokedAt: now },
          });
          break;
        case "OrganizationMfaRequirementChanged":
          await tx.organization.update({
            where: { id: organizationId },
            data: { requireMfa: event.data.required },
          });
          break;
        case "OrgMemberSessionsEnded":
          // Every console session of the member stops working at once.
          await tx.session.updateMany({
            where: { userId: event.data.userId, revokedAt: null },
            data: { revokedAt: now },
          });
          break;
        case "OrgMemberRemoved":
          // Leaving the organization ends every workspace membership in it too.
          await tx.workspaceMember.deleteMany({
            where: { userId: event.data.userId, workspace: { organizationId } },
          });
          await tx.orgMember.delete({
            where: { organizationId_userId: { organizationId, userId: event.data.userId } },
          });
          break;
        default:
          assertNever(event);
      }
    }
    await tx.organization.update({
      where: { id: organizationId },
      data: { version: { increment: events.length } },
    });
  };
}

export function projectWorkspace(workspaceId: string) {
  return async (tx: Tx, events: WorkspaceEvent[], now: Date): Promise<void> => {
    for (const event of events) {
      switch (event.type) {
        case "WorkspaceCreated":
          await conflictOnUnique(
            () =>
              tx.workspace.create({
                data: {
                  id: workspaceId,
                  organizationId: event.data.organizationId,
                  name: event.data.name,
                  slug: event.data.slug,
                  awsExternalId: event.data.awsExternalId,
                  createdAt: now,
                  version: 0,
                },
              }),
            `A workspace with the slug "${event.data.slug}" already exists in this organization`,
          );
          break;
        case "EnvironmentDeclared":
          await tx.environment.create({
            data: {
              id: event.data.environmentId,
              workspaceId,
              name: event.data.name,
              createdAt: now,
            },
          });
          break;
        case "EnvironmentDeleted":
          await tx.environment.delete({ where: { id: event.data.environmentId } });
          break;
        case "WorkspaceMemberAdded":
          await tx.workspaceMember.create({
            data: { workspaceId, userId: event.data.userId, role: event.data.role, addedAt: now },
          });
          break;
        case "WorkspaceMemberRoleChanged":
          await tx.workspaceMember.update({
            where: { workspaceId_userId: { workspaceId, userId: event.data.userId } },
            data: { role: event.data.to },
          });
          break;
        case "AwsExternalIdRotated":
          await tx.workspace.update({
            where: { id: workspaceId },
            data: { awsExternalId: event.data.awsExternalId },
          });
          break;
        case "WorkspaceMemberRemoved":
          await tx.workspaceMember.delete({
            where: { workspaceId_userId: { workspaceId, userId: event.data.userId } },
          });
          break;
        default:
          assertNever(event);
      }
    }
    await tx.workspace.update({
      where: { id: workspaceId },
      data: { version: { increment: events.length } },
    });
  };
}

/** `tokenHash` is not in the event (see apiTokens.ts), so the issuing service passes it in. */
export function projectApiToken(
  tokenId: string,
  issued?: { tokenHash: string; createdBy: string },
) {
  return async (tx: Tx, events: ApiTokenEvent[], now: Date): Promise<void> => {
    for (const event of events) {
      switch (event.type) {
        case "ApiTokenIssued":
          if (!issued) throw new Error("issuing a token needs its hash");
          await tx.apiToken.create({
            data: {
              id: tokenId,
              organizationId: event.data.organizationId,
              workspaceId: event.data.workspaceId,
              name: event.data.name,
              permissions: event.data.permissions,
              prefix: event.data.prefix,
              tokenHash: issued.tokenHash,
              createdBy: issued.createdBy,
              createdAt: now,
              expiresAt: event.data.expiresAt ? new Date(event.data.expiresAt) : null,
            },
          });
          break;
        case "ApiTokenRevoked":
          await tx.apiToken.update({ where: { id: tokenId }, data: { revokedAt: now } });
          break;
        default:
          assertNever(event);
      }
    }
  };
}

/** `tokenHash` is not in the event (see invitations.ts), so the inviting service passes it in. */
export function projectInvitation(invitationId: string, issued?: { tokenHash: string }) {
  return async (tx: Tx, events: InvitationEvent[], now: Date): Promise<void> => {
    for (const event of events) {
      switch (event.type) {
        case "InvitationIssued":
          if (!issued) throw new Error("issuing an invitation needs its hash");
          await tx.invitation.create({
            data: {
              id: invitationId,
              organizationId: event.data.organizationId,
              email: event.data.email,
              role: event.data.role,
              tokenHash: issued.tokenHash,
              invitedBy: event.data.invitedByUserId,
              createdAt: now,
              expiresAt: new Date(event.data.expiresAt),
              status: "PENDING",
            },
          });
          break;
        case "InvitationAccepted":
          await tx.invitation.update({
            where: { id: invitationId },
            data: { status: "ACCEPTED", acceptedUserId: event.data.userId, closedAt: now },
          });
          break;
        case "InvitationRevoked":
          await tx.invitation.update({
            where: { id: invitationId },
            data: { status: "REVOKED", closedAt: now },
          });
          break;
        case "InvitationExpired":
          await tx.invitation.update({
            where: { id: invitationId },
            data: { status: "EXPIRED", closedAt: now },
          });
          break;
        default:
          assertNever(event);
      }
    }
  };
}
