import { z } from "zod";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import type { Actor } from "../authz/Actor.ts";
import { loadOrgAccess, requireOrgAccess, requirePermission } from "../authz/access.ts";
import { newOpaqueToken, sha256Hex } from "../auth/secretTokens.ts";
import { openSession, type OpenedSession } from "../auth/sessions.ts";
import type { Db, Tx } from "../db/database.ts";
import { invitationDecider, type InvitationCommand } from "../domain/invitation/decide.ts";
import { invitationStream } from "../domain/invitation/events.ts";
import type { OrgRole } from "../domain/roles.ts";
import { isUuid } from "../domain/uuid.ts";
import { ConflictError } from "../errors/ConflictError.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import { executeCommand, inTransaction } from "../eventstore/executeCommand.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import { addMemberIfNew, assertMayGrant } from "./organizations.ts";
import { parseInput } from "./parseInput.ts";
import { projectInvitation } from "./projections.ts";
import { normalizeEmail, registerUser } from "./users.ts";

/** The link's secret part; the console reads it from the URL fragment, never sent to a server. */
export const INVITATION_PREFIX = "coffer_inv_";

export type InvitationRow = NonNullable<Awaited<ReturnType<Db["invitation"]["findUnique"]>>>;

/**
 * Invitations instead of passwords shown to an administrator: inviting an email yields a
 * single-use, expiring link, shown once; only its SHA-256 is stored (and, like an API
 * token's, it stays out of the event log). The invitee opens it and either sets a password
 * (a new account) or, already signed in with that email, joins. Issue, accept, revoke and
 * expiry are events on the invitation's stream, chained in the organization's log.
 */
export function invitationService(
  deps: CoreDeps & {
    /** The console's origin, for the link. */
    publicUrl: () => string;
    ttlMs: number;
    sessionTtlMs: number;
  },
) {
  const run = (
    tx: Tx,
    metadata: EventMetadata,
    organizationId: string,
    invitationId: string,
    command: InvitationCommand,
    issued?: { tokenHash: string },
  ) =>
    runInvitationCommand(tx, {
      organizationId,
      invitationId,
      command,
      metadata,
      now: deps.clock(),
      issued,
    });

  const byToken = async (db: Db | Tx, token: string) => {
    if (!token.startsWith(INVITATION_PREFIX)) return null;
    const row = await db.invitation.findUnique({
      where: { tokenHash: sha256Hex(token) },
      include: { organization: { select: { name: true, deletedAt: true } } },
    });
    return row && !row.organization.deletedAt ? row : null;
  };

  /** Records the expiry of a pending invitation whose time is up (no-op otherwise). */
  const expire = (row: InvitationRow, metadata: EventMetadata) =>
    inTransaction(deps.db, (tx) =>
      run(tx, metadata, row.organizationId, row.id, {
        type: "ExpireInvitation",
        invitationId: row.id,
        now: deps.clock(),
      }),
    );

  return {
    /**
     * Organization ADMIN or OWNER, signed in (only an OWNER invites an OWNER). Inviting an
     * address that already has a pending invitation replaces it: the old link stops working.
     */
    async invite(caller: Caller, organizationId: string, raw: { email: string; role: OrgRole }) {
      const { email } = parseInput(z.object({ email: z.email() }), { email: raw.email.trim() });
      const normalized = normalizeEmail(email);
      const token = newOpaqueToken(INVITATION_PREFIX);
      const invitationId = deps.newId();
      await inTransaction(deps.db, async (tx) => {
        const access = await requireOrgAccess(tx, caller.actor, organizationId);
        requirePermission(access, "admin", "Inviting members");
        if (caller.actor.kind !== "user")
          throw new ForbiddenError("Only a signed-in administrator can invite members");
        assertMayGrant(caller, access.orgRole, raw.role);
        const member = await tx.orgMember.findFirst({
          where: { organizationId, user: { email: normalized } },
          select: { userId: true },
        });
        if (member) throw new ConflictError(`${normalized} is already a member`);
        const pending = await tx.invitation.findFirst({
          where: { organizationId, email: normalized, status: "PENDING" },
          select: { id: true },
        });
        if (pending) {
          await run(tx, caller.metadata, organizationId, pending.id, {
            type: "RevokeInvitation",
            invitationId: pending.id,
            reason: "replaced",
          });
        }
        const now = deps.clock();
        await run(
          tx,
          caller.metadata,
          organizationId,
          invitationId,
          {
            type: "IssueInvitation",
            invitationId,
            organizationId,
            email: normalized,
            role: raw.role,
            invitedByUserId: caller.actor.userId,
            expiresAt: new Date(now.getTime() + deps.ttlMs),
            now,
          },
          { tokenHash: sha256Hex(token) },
        );
      });
      return { invitationId, url: `${deps.publicUrl()}/invite#${token}` };
    },

    /** Withdraws a pending invitation: its link stops working. Another tenant's is NotFound. */
    async revoke(caller: Caller, invitationId: string) {
      return inTransaction(deps.db, async (tx) => {
        const visible = await visibleInvitation(tx, caller.actor, invitationId);
        if (!visible) throw new NotFoundError("Invitation");
        const { row, access } = visible;
        assertMayGrant(caller, access.orgRole, row.role as OrgRole);
        await run(tx, caller.metadata, row.organizationId, row.id, {
          type: "RevokeInvitation",
          invitationId: row.id,
          reason: "revoked",
        });
        return row.id;
      });
    },

    /**
     * What the holder of a link may see before accepting: the organization's name, the
     * address and role, and whether that address has an account (sign in, or set a
     * password). An unknown or garbled link is null.
     */
    async preview(token: string) {
      const row = await byToken(deps.db, token);
      if (!row) return null;
      const account = await deps.db.user.findUnique({
        where: { email: row.email },
        select: { id: true },
      });
      return {
        organizationName: row.organization.name,
        email: row.email,
        role: row.role as OrgRole,
        expiresAt: row.expiresAt,
        status: invitationStatus(row, deps.clock()),
        accountExists: account !== null,
      };
    },

    /**
     * Joins the organization with the invitation's role. Signed in, the session's user must
     * have the invited address; signed out, the address must not have an account yet, and
     * `password` creates it (the answer then carries a new session). A used, withdrawn or
     * expired link is refused (an expired one is recorded as expired first).
     */
    async accept(
      actor: Actor | null,
      metadata: Omit<EventMetadata, "actor">,
      token: string,
      input: { password?: string | null | undefined; name?: string | null | undefined },
    ): Promise<{ organizationId: string; session: OpenedSession | null }> {
      if (actor?.kind === "token")
        throw new ForbiddenError("Invitations are accepted by people, not API tokens");
      const row = await byToken(deps.db, token);
      if (!row) throw new NotFoundError("Invitation");
      if (row.status === "PENDING" && row.expiresAt <= deps.clock())
        await expire(row, { ...metadata, actor: { kind: "system", id: "invitations" } });
      return inTransaction(deps.db, async (tx) => {
        const now = deps.clock();
        let userId: string;
        let email: string;
        let created = false;
        if (actor) {
          userId = actor.userId;
          ({ email } = await tx.user.findUniqueOrThrow({
            where: { id: userId },
            select: { email: true },
          }));
        } else {
          const existing = await tx.user.findUnique({
            where: { email: row.email },
            select: { id: true },
          });
          if (existing)
            throw new UnauthenticatedError(
              `${row.email} already has an account: sign in with it, then open the link again`,
            );
          userId = deps.newId();
          email = row.email;
          created = true;
        }
        const asUser: EventMetadata = { ...metadata, actor: { kind: "user", id: userId } };
        await run(tx, asUser, row.organizationId, row.id, {
          type: "AcceptInvitation",
          invitationId: row.id,
          userId,
          email,
          via: "link",
          now,
        });
        if (created) {
          if (!input.password)
            throw new UnauthenticatedError("Choose a password to create your account");
          await registerUser(tx, {
            userId,
            email,
            name: input.name?.trim() || email.split("@")[0]!,
            password: input.password,
            metadata: asUser,
            now,
          });
        }
        await addMemberIfNew(tx, row.organizationId, userId, row.role as OrgRole, asUser, now);
        const session = created
          ? await openSession(tx, deps, {
              userId,
              ttlMs: deps.sessionTtlMs,
              mfaVerified: false,
              method: "invitation",
              metadata: asUser,
            })
          : null;
        return { organizationId: row.organizationId, session };
      });
    },

    /** Records the expiry of every pending invitation whose time is up (the worker's sweep). */
    async expireDue(limit = 100): Promise<number> {
      const due = await deps.db.invitation.findMany({
        where: { status: "PENDING", expiresAt: { lte: deps.clock() } },
        orderBy: { expiresAt: "asc" },
        take: limit,
      });
      for (const row of due) await expire(row, { actor: { kind: "system", id: "invitations" } });
      return due.length;
    },
  };
}

export type InvitationService = ReturnType<typeof invitationService>;

/** One command on an invitation's stream, with its projection, inside `tx`. */
export function runInvitationCommand(
  tx: Tx,
  input: {
    organizationId: string;
    invitationId: string;
    command: InvitationCommand;
    metadata: EventMetadata;
    now: Date;
    /** For IssueInvitation: the link's hash, which the event does not carry. */
    issued?: { tokenHash: string } | undefined;
  },
) {
  return executeCommand(tx, {
    streamId: invitationStream(input.invitationId),
    organizationId: input.organizationId,
    decider: invitationDecider,
    command: input.command,
    metadata: input.metadata,
    now: input.now,
    project: projectInvitation(input.invitationId, input.issued),
  });
}

export type InvitationStatus = "PENDING" | "ACCEPTED" | "REVOKED" | "EXPIRED";

/** PENDING past its expiry reads EXPIRED before the sweep has recorded it. */
export const invitationStatus = (row: { status: string; expiresAt: Date }, now: Date) =>
  (row.status === "PENDING" && row.expiresAt <= now ? "EXPIRED" : row.status) as InvitationStatus;

/** An invitation is visible to the admins of its organization; to anyone else it is missing. */
async function visibleInvitation(db: Db | Tx, actor: Actor, invitationId: string) {
  if (!isUuid(invitationId)) return null;
  const row = await db.invitation.findUnique({ where: { id: invitationId } });
  if (!row) return null;
  const access = await loadOrgAccess(db, actor, row.organizationId);
  return access?.permissions.has("admin") ? { row, access } : null;
}

export const findVisibleInvitation = async (db: Db | Tx, actor: Actor, invitationId: string) =>
  (await visibleInvitation(db, actor, invitationId))?.row ?? null;
