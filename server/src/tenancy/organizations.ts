import { z } from "zod";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { requireOrgAccess, requirePermission } from "../authz/access.ts";
import { organizationDecider, type OrganizationCommand } from "../domain/organization/decide.ts";
import { organizationStream } from "../domain/organization/events.ts";
import { SLUG, slugify } from "../domain/names.ts";
import type { OrgRole } from "../domain/roles.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { executeCommand, inTransaction } from "../eventstore/executeCommand.ts";
import { organizationKeyName, type Transit } from "../transit/Transit.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import { parseInput } from "./parseInput.ts";
import { projectOrganization } from "./projections.ts";
import type { Tx } from "../db/database.ts";
import { isUuid } from "../domain/uuid.ts";

const nameSchema = z.string().trim().min(1, "must not be empty").max(100, "at most 100 characters");
const slugSchema = z
  .string()
  .regex(SLUG, "lowercase letters, digits and '-', at most 63 characters");

export const createOrganizationInput = z.object({ name: nameSchema, slug: slugSchema.optional() });

/** Application service for organizations: resolve tenant → authorize → validate → decide → store + audit. */
export function organizationService(
  deps: CoreDeps & {
    transit: Transit;
    /** Crypto-shredding, run once the deletion is committed (secrets/transitKeyService.ts). */
    destroyKey: (organizationId: string, metadata: EventMetadata) => Promise<void>;
  },
) {
  const run = (tx: Tx, caller: Caller, organizationId: string, command: OrganizationCommand) =>
    runOrganizationCommand(tx, organizationId, command, caller.metadata, deps.clock());

  return {
    /** Any signed-in user may create an organization and becomes its OWNER. */
    async create(caller: Caller, raw: { name: string; slug?: string | null | undefined }) {
      if (caller.actor.kind !== "user")
        throw new ForbiddenError("Only users can create organizations");
      const userId = caller.actor.userId;
      const input = parseInput(createOrganizationInput, {
        name: raw.name,
        slug: raw.slug ?? undefined,
      });
      const slug = input.slug ?? (slugify(input.name) || "org");
      const organizationId = deps.newId();
      // The organization's own transit key exists before anything can be encrypted with
      // it; a failure here leaves no organization behind (and at worst an unused key).
      await deps.transit.createKey(organizationKeyName(organizationId));
      await inTransaction(deps.db, (tx) =>
        run(tx, caller, organizationId, {
          type: "CreateOrganization",
          organizationId,
          name: input.name,
          slug,
          ownerUserId: userId,
        }),
      );
      return organizationId;
    },

    async changeMemberRole(caller: Caller, organizationId: string, userId: string, role: OrgRole) {
      await inTransaction(deps.db, async (tx) => {
        const access = await requireOrgAccess(tx, caller.actor, organizationId);
        requirePermission(access, "admin", "Changing roles");
        const current = await currentRole(tx, organizationId, userId);
        assertMayGrant(caller, access.orgRole, current);
        assertMayGrant(caller, access.orgRole, role);
        await run(tx, caller, organizationId, { type: "ChangeOrgMemberRole", userId, role });
      });
    },

    async removeMember(caller: Caller, organizationId: string, userId: string) {
      await inTransaction(deps.db, async (tx) => {
        const access = await requireOrgAccess(tx, caller.actor, organizationId);
        requirePermission(access, "admin", "Removing members");
        assertMayGrant(caller, access.orgRole, await currentRole(tx, organizationId, userId));
        await run(tx, caller, organizationId, { type: "RemoveOrgMember", userId });
      });
    },

    /**
     * Signs a member out everywhere: every console session of theirs stops working (their
     * API tokens are separate, see revokeApiToken). ADMIN or OWNER; only an OWNER ends an
     * OWNER's sessions.
     */
    async endMemberSessions(caller: Caller, organizationId: string, userId: string) {
      await inTransaction(deps.db, async (tx) => {
        const access = await requireOrgAccess(tx, caller.actor, organizationId);
        requirePermission(access, "admin", "Ending a member's sessions");
        assertMayGrant(caller, access.orgRole, await currentRole(tx, organizationId, userId));
        await run(tx, caller, organizationId, { type: "EndOrgMemberSessions", userId });
      });
    },

    /**
     * Whether members must sign in with a second factor to act in the organization.
     * Organization ADMIN or OWNER, signed in; turning it on needs the caller's own session
     * to be two-factor already, so that nobody locks themselves out by accident.
     */
    async setMfaRequirement(caller: Caller, organizationId: string, required: boolean) {
      await inTransaction(deps.db, async (tx) => {
        const access = await requireOrgAccess(tx, caller.actor, organizationId);
        if (caller.actor.kind !== "user")
          throw new ForbiddenError("Only a signed-in administrator can change sign-in rules");
        requirePermission(access, "admin", "Changing the organization's sign-in rules");
        if (required && !caller.actor.mfa)
          throw new ForbiddenError(
            "Turn on two-factor sign-in for yourself and sign in with a code before requiring it of everyone",
          );
        await run(tx, caller, organizationId, { type: "SetMfaRequirement", required });
      });
    },

    /**
     * Deletes the organization for good: the deletion is recorded (and its tokens revoked)
     * first, then its transit key is destroyed, which crypto-shreds every secret it held.
     * Organization OWNER only; `confirmSlug` must repeat the slug.
     */
    async delete(caller: Caller, organizationId: string, confirmSlug: string) {
      const slug = await inTransaction(deps.db, async (tx) => {
        const access = await requireOrgAccess(tx, caller.actor, organizationId);
        if (caller.actor.kind !== "user" || access.orgRole !== "OWNER") {
          throw new ForbiddenError("Only an organization OWNER can delete the organization");
        }
        const { slug } = await tx.organization.findUniqueOrThrow({
          where: { id: organizationId },
          select: { slug: true },
        });
        await run(tx, caller, organizationId, {
          type: "DeleteOrganization",
          organizationId,
          slug,
          confirmSlug,
        });
        return slug;
      });
      await deps.destroyKey(organizationId, caller.metadata);
      return slug;
    },
  };
}

/** One command on the organization's stream, with its projection, inside `tx`. */
export function runOrganizationCommand(
  tx: Tx,
  organizationId: string,
  command: OrganizationCommand,
  metadata: EventMetadata,
  now: Date,
) {
  return executeCommand(tx, {
    streamId: organizationStream(organizationId),
    organizationId,
    decider: organizationDecider,
    command,
    metadata,
    now,
    project: projectOrganization(organizationId),
  });
}

/** Makes the user a member with `role` unless they are one already (an invitation, a first SSO). */
export async function addMemberIfNew(
  tx: Tx,
  organizationId: string,
  userId: string,
  role: OrgRole,
  metadata: EventMetadata,
  now: Date,
): Promise<void> {
  const member = await tx.orgMember.findUnique({
    where: { organizationId_userId: { organizationId, userId } },
    select: { role: true },
  });
  if (!member)
    await runOrganizationCommand(
      tx,
      organizationId,
      { type: "AddOrgMember", userId, role },
      metadata,
      now,
    );
}

async function currentRole(tx: Tx, organizationId: string, userId: string): Promise<OrgRole> {
  if (!isUuid(userId)) throw new NotFoundError("Member"); // a user id is a bare UUID
  const member = await tx.orgMember.findUnique({
    where: { organizationId_userId: { organizationId, userId } },
    select: { role: true },
  });
  if (!member) throw new NotFoundError("Member");
  return member.role as OrgRole;
}

/** Only an OWNER makes, unmakes or removes OWNERs; an ADMIN manages everyone else. */
export function assertMayGrant(caller: Caller, callerRole: OrgRole | null, role: OrgRole): void {
  if (role === "OWNER" && (caller.actor.kind !== "user" || callerRole !== "OWNER")) {
    throw new ForbiddenError("Only an OWNER can grant, change or remove the OWNER role");
  }
}
