import type { Db, Tx } from "../db/database.ts";
import { PERMISSIONS, type OrgRole, type Permission, type WorkspaceRole } from "../domain/roles.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import type { Actor } from "./Actor.ts";
import { isUuid } from "../domain/uuid.ts";

/**
 * What an actor may do in one organization or workspace. `null` from the loaders means the
 * object is invisible to the actor, and callers must answer exactly as for a missing one.
 */
export type OrgAccess = {
  organizationId: string;
  orgRole: OrgRole | null;
  permissions: ReadonlySet<Permission>;
};
export type WorkspaceAccess = OrgAccess & {
  workspaceId: string;
  workspaceRole: WorkspaceRole | null;
};

const ALL = new Set<Permission>(PERMISSIONS);
const NONE = new Set<Permission>();
const WORKSPACE_ROLE_PERMISSIONS: Record<WorkspaceRole, ReadonlySet<Permission>> = {
  ADMIN: ALL,
  EDITOR: new Set(["secrets:read", "secrets:write", "secrets:resolve", "oauth:manage"]),
  VIEWER: new Set(["secrets:read"]),
};

function tokenPermissions(permissions: readonly Permission[]): ReadonlySet<Permission> {
  return permissions.includes("admin") ? ALL : new Set(permissions);
}

export async function loadOrgAccess(
  db: Db | Tx,
  actor: Actor,
  organizationId: string,
): Promise<OrgAccess | null> {
  if (!isUuid(organizationId)) return null;
  if (actor.kind === "token") {
    if (actor.organizationId !== organizationId) return null;
    const permissions = actor.workspaceId ? NONE : tokenPermissions(actor.permissions);
    return { organizationId, orgRole: null, permissions };
  }
  if (!ssoAllows(actor, organizationId)) return null;
  const member = await db.orgMember.findUnique({
    where: { organizationId_userId: { organizationId, userId: actor.userId } },
    select: {
      role: true,
      organization: { select: { deletedAt: true, requireMfa: true, ssoRequired: true } },
    },
  });
  // A deleted organization is gone for everyone (its tokens were revoked with it).
  if (!member || member.organization.deletedAt) return null;
  const orgRole = member.role as OrgRole;
  requireSignInRules(actor, member.organization, orgRole, organizationId);
  return { organizationId, orgRole, permissions: orgRole === "MEMBER" ? NONE : ALL };
}

export async function loadWorkspaceAccess(
  db: Db | Tx,
  actor: Actor,
  workspaceId: string,
): Promise<WorkspaceAccess | null> {
  if (!isUuid(workspaceId)) return null;
  if (actor.kind === "token") {
    if (actor.workspaceId !== null && actor.workspaceId !== workspaceId) return null;
    // A workspace token's own workspace: issued inside its organization, and a workspace
    // never changes organization (a deleted organization's tokens are revoked), so no query.
    if (actor.workspaceId === workspaceId) {
      return {
        organizationId: actor.organizationId,
        workspaceId,
        orgRole: null,
        workspaceRole: null,
        permissions: tokenPermissions(actor.permissions),
      };
    }
    const workspace = await db.workspace.findUnique({
      where: { id: workspaceId },
      select: { organizationId: true },
    });
    if (!workspace || workspace.organizationId !== actor.organizationId) return null;
    return {
      organizationId: workspace.organizationId,
      workspaceId,
      orgRole: null,
      workspaceRole: null,
      permissions: tokenPermissions(actor.permissions),
    };
  }
  const workspace = await db.workspace.findUnique({
    where: { id: workspaceId },
    select: {
      organizationId: true,
      organization: {
        select: {
          deletedAt: true,
          requireMfa: true,
          ssoRequired: true,
          members: { where: { userId: actor.userId }, select: { role: true } },
        },
      },
      members: { where: { userId: actor.userId }, select: { role: true } },
    },
  });
  const orgRole = workspace?.organization.members[0]?.role as OrgRole | undefined;
  if (!workspace || !orgRole || workspace.organization.deletedAt) return null;
  if (!ssoAllows(actor, workspace.organizationId)) return null;
  requireSignInRules(actor, workspace.organization, orgRole, workspace.organizationId);
  const workspaceRole = (workspace.members[0]?.role as WorkspaceRole | undefined) ?? null;
  const permissions =
    orgRole !== "MEMBER" ? ALL : workspaceRole ? WORKSPACE_ROLE_PERMISSIONS[workspaceRole] : null;
  if (!permissions) return null;
  return {
    organizationId: workspace.organizationId,
    workspaceId,
    orgRole,
    workspaceRole,
    permissions,
  };
}

/** A session opened by one organization's single sign-on sees no other organization. */
function ssoAllows(actor: Actor & { kind: "user" }, organizationId: string): boolean {
  return !actor.ssoOrganizationId || actor.ssoOrganizationId === organizationId;
}

/**
 * A member of an organization that demands single sign-on acts in it only from a session
 * its identity provider opened (OWNERs excepted: a broken identity provider must not lock
 * the organization out); one that demands two-factor sign-in, only from a session opened
 * with a second factor. Told so, since the organization is theirs to see.
 */
function requireSignInRules(
  actor: Actor & { kind: "user" },
  rules: { requireMfa: boolean; ssoRequired: boolean },
  role: OrgRole,
  organizationId: string,
): void {
  if (rules.ssoRequired && role !== "OWNER" && actor.ssoOrganizationId !== organizationId)
    throw new ForbiddenError(
      "This organization requires single sign-on: sign out, then sign in with your organization's identity provider",
    );
  if (rules.requireMfa && !actor.mfa)
    throw new ForbiddenError(
      "This organization requires two-factor sign-in: turn it on under Account, then sign in again with a code",
    );
}

export async function requireOrgAccess(
  db: Db | Tx,
  actor: Actor,
  organizationId: string,
): Promise<OrgAccess> {
  const access = await loadOrgAccess(db, actor, organizationId);
  if (!access) throw new NotFoundError("Organization");
  return access;
}

export async function requireWorkspaceAccess(
  db: Db | Tx,
  actor: Actor,
  workspaceId: string,
): Promise<WorkspaceAccess> {
  const access = await loadWorkspaceAccess(db, actor, workspaceId);
  if (!access) throw new NotFoundError("Workspace");
  return access;
}

export function requirePermission(access: OrgAccess, permission: Permission, what: string): void {
  if (!access.permissions.has(permission)) {
    throw new ForbiddenError(`${what} needs the "${permission}" permission`);
  }
}
