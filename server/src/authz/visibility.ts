import type { Prisma } from "../generated/prisma/client.ts";
import type { Actor } from "./Actor.ts";

/**
 * Prisma filters for the lists an actor may see, the set form of authz/access.ts:
 * organization members see their organizations; workspaces are seen by organization
 * OWNER/ADMIN and by their own members; tokens see their organization or workspace.
 */
export function visibleOrganizations(actor: Actor): Prisma.OrganizationWhereInput {
  return actor.kind === "token"
    ? { id: actor.organizationId }
    : {
        members: { some: { userId: actor.userId } },
        deletedAt: null,
        // A single sign-on session sees the organization that opened it, and no other.
        ...(actor.ssoOrganizationId ? { id: actor.ssoOrganizationId } : {}),
      };
}

export function visibleWorkspaces(actor: Actor): Prisma.WorkspaceWhereInput {
  if (actor.kind === "token") {
    return {
      organizationId: actor.organizationId,
      ...(actor.workspaceId ? { id: actor.workspaceId } : {}),
    };
  }
  const userId = actor.userId;
  return {
    organization: { deletedAt: null },
    ...(actor.ssoOrganizationId ? { organizationId: actor.ssoOrganizationId } : {}),
    OR: [
      { organization: { members: { some: { userId, role: { in: ["OWNER", "ADMIN"] } } } } },
      { members: { some: { userId } }, organization: { members: { some: { userId } } } },
    ],
  };
}
