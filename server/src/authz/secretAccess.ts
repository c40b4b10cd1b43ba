import type { Db, Tx } from "../db/database.ts";
import type { Secret } from "../generated/prisma/client.ts";
import type { Permission } from "../domain/roles.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import type { Actor } from "./Actor.ts";
import { loadOrgAccess, loadWorkspaceAccess, requirePermission, type OrgAccess } from "./access.ts";
import { isUuid } from "../domain/uuid.ts";

/**
 * Who may see and change a secret:
 * - ORGANIZATION: the organization's permissions (OWNER/ADMIN, or an organization token);
 *   reading is also open to anyone who may read secrets in one of its workspaces.
 * - WORKSPACE: the workspace's permissions.
 * - PERSONAL: only the owning user, within a workspace they can still see.
 * An invisible secret is a missing one.
 */
export async function loadSecretAccess(
  db: Db | Tx,
  actor: Actor,
  secret: Pick<Secret, "scope" | "organizationId" | "workspaceId" | "ownerUserId">,
): Promise<OrgAccess | null> {
  if (secret.scope === "ORGANIZATION") {
    const access = await loadOrgAccess(db, actor, secret.organizationId);
    if (access && access.permissions.size > 0) return access;
    if (!access) return null;
    // An organization member without organization rights still reads metadata through a
    // workspace: one of their own (a workspace token has exactly one).
    const candidates =
      actor.kind === "token"
        ? actor.workspaceId
          ? [actor.workspaceId]
          : []
        : (
            await db.workspaceMember.findMany({
              where: { userId: actor.userId, workspace: { organizationId: secret.organizationId } },
              select: { workspaceId: true },
            })
          ).map((m) => m.workspaceId);
    for (const id of candidates) {
      const ws = await loadWorkspaceAccess(db, actor, id);
      if (ws?.permissions.has("secrets:read"))
        return { ...ws, permissions: new Set<Permission>(["secrets:read"]) };
    }
    return null;
  }
  if (!secret.workspaceId) return null;
  const access = await loadWorkspaceAccess(db, actor, secret.workspaceId);
  if (!access) return null;
  if (secret.scope === "PERSONAL" && (actor.kind !== "user" || actor.userId !== secret.ownerUserId))
    return null;
  return access;
}

/** The secret (live or deleted, as asked) if the actor may see it, with their access. */
export async function requireSecret(
  db: Db | Tx,
  actor: Actor,
  secretId: string,
  permission: Permission,
  what: string,
) {
  const secret = isUuid(secretId) ? await db.secret.findUnique({ where: { id: secretId } }) : null;
  const access = secret && !secret.deletedAt ? await loadSecretAccess(db, actor, secret) : null;
  if (!secret || !access || !access.permissions.has("secrets:read"))
    throw new NotFoundError("Secret");
  requirePermission(access, permission, what);
  return { secret, access };
}
