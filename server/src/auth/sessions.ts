import type { Caller, CoreDeps } from "../CoreDeps.ts";
import type { Actor } from "../authz/Actor.ts";
import type { Tx } from "../db/database.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import { inTransaction } from "../eventstore/executeCommand.ts";
import { normalizeEmail, recordUserEvent } from "../tenancy/users.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import {
  MIN_PASSWORD_LENGTH,
  hashPassword,
  verifyAgainstDummy,
  verifyPassword,
} from "./passwords.ts";
import { SESSION_PREFIX, newOpaqueToken, sha256Hex } from "./secretTokens.ts";
import { MfaRequiredError } from "../errors/MfaRequiredError.ts";
import type { MfaService } from "./mfaService.ts";

/**
 * Console sessions: an opaque random id in an httpOnly, SameSite=Strict cookie; the
 * database keeps its SHA-256. Sign-in and sign-out are audited on the user's stream.
 */
export function sessionService(
  deps: CoreDeps,
  options: {
    ttlMs: number;
    mfa: Pick<MfaService, "checkSecondFactor">;
    /** Counts one attempt at a user's second factor (the shared limiter); throws when spent. */
    limitMfa: (userId: string) => Promise<void>;
  },
) {
  return {
    /**
     * Password, then — for a user with two-factor sign-in — `mfaCode` (TOTP or a recovery
     * code): without one the answer is MfaRequiredError and no session. A wrong password
     * or code of a known user is audited (UserSignInFailed, with the client address).
     */
    async signIn(
      email: string,
      password: string,
      metadata: Omit<EventMetadata, "actor">,
      mfaCode?: string | null,
    ) {
      const user = await deps.db.user.findUnique({ where: { email: normalizeEmail(email) } });
      const ok = user
        ? await verifyPassword(password, user.passwordHash)
        : await verifyAgainstDummy(password);
      if (!user) throw new UnauthenticatedError("Email or password is incorrect");
      const asUser = { ...metadata, actor: { kind: "user" as const, id: user.id } };
      const failed = async (reason: "password" | "mfa") =>
        inTransaction(deps.db, (tx) =>
          recordUserEvent(
            tx,
            user.id,
            { type: "UserSignInFailed", data: { userId: user.id, reason } },
            asUser,
            deps.clock(),
          ),
        );
      if (!ok) {
        await failed("password");
        throw new UnauthenticatedError("Email or password is incorrect");
      }
      const needsMfa = user.totpEnabledAt !== null;
      if (needsMfa && !mfaCode?.trim()) throw new MfaRequiredError();
      if (needsMfa) await options.limitMfa(user.id);
      const opened = await inTransaction(deps.db, async (tx) => {
        if (needsMfa && !(await options.mfa.checkSecondFactor(tx, user, mfaCode!, asUser)))
          return null;
        return openSession(tx, deps, {
          userId: user.id,
          ttlMs: options.ttlMs,
          mfaVerified: needsMfa,
          method: "password",
          metadata: asUser,
        });
      });
      if (!opened) {
        await failed("mfa");
        throw new UnauthenticatedError("The code is incorrect or was already used");
      }
      return opened;
    },

    async signOut(actor: Actor, metadata: EventMetadata) {
      if (actor.kind !== "user") return false;
      const now = deps.clock();
      await inTransaction(deps.db, async (tx) => {
        const { count } = await tx.session.updateMany({
          where: { id: actor.sessionId, revokedAt: null },
          data: { revokedAt: now },
        });
        if (count > 0) {
          await recordUserEvent(
            tx,
            actor.userId,
            { type: "UserSignedOut", data: { userId: actor.userId, sessionId: actor.sessionId } },
            metadata,
            now,
          );
        }
      });
      return true;
    },

    /** Ends every other session of the user: a changed password locks out old cookies. */
    async changePassword(caller: Caller, currentPassword: string, newPassword: string) {
      if (caller.actor.kind !== "user")
        throw new UnauthenticatedError("Only a signed-in user can change a password");
      const { userId, sessionId } = caller.actor;
      if (newPassword.length < MIN_PASSWORD_LENGTH) {
        throw ValidationError.fromIssues([
          { path: "newPassword", message: `must be at least ${MIN_PASSWORD_LENGTH} characters` },
        ]);
      }
      const user = await deps.db.user.findUniqueOrThrow({ where: { id: userId } });
      if (!(await verifyPassword(currentPassword, user.passwordHash)))
        throw new UnauthenticatedError("The current password is incorrect");
      const passwordHash = await hashPassword(newPassword);
      const now = deps.clock();
      await inTransaction(deps.db, async (tx) => {
        await tx.user.update({ where: { id: userId }, data: { passwordHash } });
        await tx.session.updateMany({
          where: { userId, revokedAt: null, id: { not: sessionId } },
          data: { revokedAt: now },
        });
        await recordUserEvent(
          tx,
          userId,
          { type: "UserPasswordChanged", data: { userId } },
          caller.metadata,
          now,
        );
      });
    },

    /** The user's sessions that still work, newest first. */
    async list(actor: Actor) {
      if (actor.kind !== "user") return [];
      return deps.db.session.findMany({
        where: { userId: actor.userId, revokedAt: null, expiresAt: { gt: deps.clock() } },
        select: { id: true, createdAt: true, expiresAt: true, lastSeenAt: true },
        orderBy: { createdAt: "desc" },
      });
    },

    /**
     * Ends one of the caller's own sessions (another browser, a lost laptop). Another
     * user's session, or one already ended, is NotFound. Answers whether it was the
     * current one (its cookie is then cleared too).
     */
    async revoke(caller: Caller, sessionId: string): Promise<{ current: boolean }> {
      if (caller.actor.kind !== "user")
        throw new UnauthenticatedError("Only a signed-in user has sessions");
      const { userId } = caller.actor;
      const now = deps.clock();
      await inTransaction(deps.db, async (tx) => {
        const { count } = await tx.session.updateMany({
          where: { id: sessionId, userId, revokedAt: null, expiresAt: { gt: now } },
          data: { revokedAt: now },
        });
        if (count === 0) throw new NotFoundError("Session");
        await recordUserEvent(
          tx,
          userId,
          { type: "UserSessionRevoked", data: { userId, sessionId } },
          caller.metadata,
          now,
        );
      });
      return { current: sessionId === caller.actor.sessionId };
    },

    async authenticate(token: string): Promise<Actor | null> {
      if (!token.startsWith(SESSION_PREFIX)) return null;
      const session = await deps.db.session.findUnique({ where: { tokenHash: sha256Hex(token) } });
      if (!session || session.revokedAt || session.expiresAt <= deps.clock()) return null;
      return {
        kind: "user",
        userId: session.userId,
        sessionId: session.id,
        mfa: session.mfaVerified,
        ssoOrganizationId: session.ssoOrganizationId,
      };
    },
  };
}

export type OpenedSession = { token: string; userId: string; sessionId: string; expiresAt: Date };

/**
 * Opens a console session inside the caller's transaction and records UserSignedIn on the
 * user's stream: a password sign-in, an accepted invitation, a single sign-on callback.
 * The returned token goes into the cookie; only its SHA-256 is stored.
 */
export async function openSession(
  tx: Tx,
  deps: CoreDeps,
  input: {
    userId: string;
    ttlMs: number;
    mfaVerified: boolean;
    method: "password" | "invitation" | "sso";
    metadata: EventMetadata;
    /** Single sign-on: the session acts in this organization only. */
    ssoOrganizationId?: string;
  },
): Promise<OpenedSession> {
  const token = newOpaqueToken(SESSION_PREFIX);
  const now = deps.clock();
  const sessionId = deps.newId();
  const expiresAt = new Date(now.getTime() + input.ttlMs);
  await tx.session.create({
    data: {
      id: sessionId,
      tokenHash: sha256Hex(token),
      userId: input.userId,
      createdAt: now,
      expiresAt,
      mfaVerified: input.mfaVerified,
      ssoOrganizationId: input.ssoOrganizationId ?? null,
    },
  });
  await recordUserEvent(
    tx,
    input.userId,
    { type: "UserSignedIn", data: { userId: input.userId, sessionId, method: input.method } },
    input.metadata,
    now,
  );
  return { token, userId: input.userId, sessionId, expiresAt };
}
