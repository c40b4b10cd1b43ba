import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { canonicalJson } from "../canonicalJson.ts";
import type { Tx } from "../db/database.ts";
import type { UserEvent } from "../domain/user/events.ts";
import { ConflictError } from "../errors/ConflictError.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { inTransaction } from "../eventstore/executeCommand.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import { SecretIntegrityError } from "../secrets/secretPayload.ts";
import type { Transit } from "../transit/Transit.ts";
import { recordUserEvent } from "../tenancy/users.ts";
import { verifyPassword } from "./passwords.ts";
import { newRecoveryCodes, recoveryCodeHash, RECOVERY_CODE_COUNT } from "./recoveryCodes.ts";
import { acceptedTotpStep, looksLikeTotpCode, newTotpSecret, totpUri } from "./totp.ts";

/** The transit key of users' TOTP seeds (users belong to no one organization). */
export const USERS_KEY = "coffer-users";

type MfaUser = {
  id: string;
  totpCiphertext: string | null;
  totpLastStep: bigint | null;
};

/**
 * TOTP two-factor sign-in with single-use recovery codes. A seed is encrypted by transit
 * (key coffer-users, the plaintext naming its user, so a ciphertext moved to another user
 * is refused) and never leaves except once, to its user, at enrollment. Enabling,
 * disabling and regenerating codes are audited on the user's stream; the codes and the
 * seed never are.
 */
export function mfaService(deps: CoreDeps & { transit: Transit }) {
  const audit = (tx: Tx, userId: string, event: UserEvent, metadata: EventMetadata) =>
    recordUserEvent(tx, userId, event, metadata, deps.clock());

  async function sealSeed(userId: string, secret: string): Promise<string> {
    await deps.transit.createKey(USERS_KEY);
    const [ciphertext] = await deps.transit.encrypt(USERS_KEY, [
      Buffer.from(canonicalJson({ v: 1, userId, field: "totp_seed", value: secret }), "utf8"),
    ]);
    return ciphertext!;
  }

  async function openSeed(userId: string, ciphertext: string): Promise<string> {
    const [plaintext] = await deps.transit.decrypt(USERS_KEY, [ciphertext]);
    const doc = JSON.parse(plaintext!.toString("utf8")) as Record<string, unknown>;
    if (doc.v !== 1 || doc.userId !== userId || doc.field !== "totp_seed")
      throw new SecretIntegrityError("a TOTP seed does not belong to its user");
    return String(doc.value);
  }

  /** Replaces the user's recovery codes with ten new ones, answered once. */
  async function issueRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    const now = deps.clock();
    await tx.recoveryCode.updateMany({ where: { userId, usedAt: null }, data: { usedAt: now } });
    await tx.recoveryCode.createMany({
      data: codes.map((code) => ({
        id: deps.newId(),
        userId,
        codeHash: recoveryCodeHash(code),
        createdAt: now,
      })),
    });
    return codes;
  }

  /**
   * Checks a second factor inside `tx`: a TOTP code (each good once) or an unused
   * recovery code (spent, and audited). Answers which it was, or null.
   */
  async function checkSecondFactor(
    tx: Tx,
    user: MfaUser,
    code: string,
    metadata: EventMetadata,
  ): Promise<"totp" | "recovery" | null> {
    const typed = code.trim();
    if (looksLikeTotpCode(typed)) {
      if (!user.totpCiphertext) return null;
      const step = await acceptedTotpStep(
        await openSeed(user.id, user.totpCiphertext),
        typed,
        deps.clock(),
        user.totpLastStep,
      );
      if (step === null) return null;
      // Conditional: of two sign-ins racing with one code, one wins.
      const { count } = await tx.user.updateMany({
        where: {
          id: user.id,
          OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }],
        },
        data: { totpLastStep: step },
      });
      return count === 1 ? "totp" : null;
    }
    const { count } = await tx.recoveryCode.updateMany({
      where: { userId: user.id, codeHash: recoveryCodeHash(typed), usedAt: null },
      data: { usedAt: deps.clock() },
    });
    if (count !== 1) return null;
    const remaining = await tx.recoveryCode.count({ where: { userId: user.id, usedAt: null } });
    await audit(
      tx,
      user.id,
      { type: "UserRecoveryCodeUsed", data: { userId: user.id, remaining } },
      metadata,
    );
    return "recovery";
  }

  function signedInUser(caller: Caller) {
    if (caller.actor.kind !== "user")
      throw new UnauthenticatedError("Only a signed-in user has two-factor sign-in");
    return caller.actor;
  }

  async function requirePassword(userId: string, password: string) {
    const user = await deps.db.user.findUniqueOrThrow({ where: { id: userId } });
    if (!(await verifyPassword(password, user.passwordHash)))
      throw new UnauthenticatedError("The password is incorrect");
    return user;
  }

  const wrongCode = () =>
    ValidationError.fromIssues([
      { path: "code", message: "is not the current code of your authenticator app" },
    ]);

  return {
    checkSecondFactor,

    /** Whether the user has TOTP on, and how many recovery codes are left. */
    async status(userId: string) {
      const [user, remaining] = await Promise.all([
        deps.db.user.findUnique({ where: { id: userId }, select: { totpEnabledAt: true } }),
        deps.db.recoveryCode.count({ where: { userId, usedAt: null } }),
      ]);
      return {
        enabled: Boolean(user?.totpEnabledAt),
        enabledAt: user?.totpEnabledAt ?? null,
        recoveryCodesRemaining: user?.totpEnabledAt ? remaining : 0,
      };
    },

    /**
     * Step one: a new seed for the user's authenticator app, shown this once, pending
     * until confirmEnrollment proves the app has it. Needs the password again.
     */
    async beginEnrollment(caller: Caller, password: string) {
      const { userId } = signedInUser(caller);
      const user = await requirePassword(userId, password);
      if (user.totpEnabledAt)
        throw new ConflictError("Two-factor sign-in is already on; turn it off first");
      const secret = newTotpSecret();
      await deps.db.user.update({
        where: { id: userId },
        data: { totpPendingCiphertext: await sealSeed(userId, secret) },
      });
      return { secret, otpauthUri: totpUri(secret, user.email) };
    },

    /**
     * Step two: the app's current code turns TOTP on; the answer holds ten recovery codes,
     * shown this once. The current session counts as verified from now on.
     */
    async confirmEnrollment(caller: Caller, code: string) {
      const actor = signedInUser(caller);
      const user = await deps.db.user.findUniqueOrThrow({ where: { id: actor.userId } });
      if (user.totpEnabledAt) throw new ConflictError("Two-factor sign-in is already on");
      if (!user.totpPendingCiphertext)
        throw new ConflictError("Start with beginTotpEnrollment: no enrollment is pending");
      const seed = await openSeed(user.id, user.totpPendingCiphertext);
      const step = await acceptedTotpStep(seed, code.trim(), deps.clock(), null);
      if (step === null) throw wrongCode();
      return inTransaction(deps.db, async (tx) => {
        const { count } = await tx.user.updateMany({
          where: {
            id: user.id,
            totpEnabledAt: null,
            totpPendingCiphertext: user.totpPendingCiphertext,
          },
          data: {
            totpCiphertext: user.totpPendingCiphertext,
            totpPendingCiphertext: null,
            totpEnabledAt: deps.clock(),
            totpLastStep: step,
          },
        });
        if (count !== 1) throw new ConflictError("The enrollment changed meanwhile; start again");
        const codes = await issueRecoveryCodes(tx, user.id);
        await tx.session.update({ where: { id: actor.sessionId }, data: { mfaVerified: true } });
        await audit(
          tx,
          user.id,
          {
            type: "UserMfaEnabled",
            data: { userId: user.id, method: "totp", recoveryCodes: RECOVERY_CODE_COUNT },
          },
          caller.metadata,
        );
        return { recoveryCodes: codes };
      });
    },

    /** Turns TOTP off: the password and a current code (or a recovery code). */
    async disable(caller: Caller, password: string, code: string) {
      const { userId } = signedInUser(caller);
      const user = await requirePassword(userId, password);
      if (!user.totpEnabledAt) throw new ConflictError("Two-factor sign-in is not on");
      await inTransaction(deps.db, async (tx) => {
        if (!(await checkSecondFactor(tx, user, code, caller.metadata))) throw wrongCode();
        await tx.user.update({
          where: { id: userId },
          data: {
            totpCiphertext: null,
            totpPendingCiphertext: null,
            totpEnabledAt: null,
            totpLastStep: null,
          },
        });
        await tx.recoveryCode.updateMany({
          where: { userId, usedAt: null },
          data: { usedAt: deps.clock() },
        });
        await audit(tx, userId, { type: "UserMfaDisabled", data: { userId } }, caller.metadata);
      });
    },

    /** Ten new recovery codes (the old ones stop working): needs a current TOTP code. */
    async regenerateRecoveryCodes(caller: Caller, code: string) {
      const { userId } = signedInUser(caller);
      const user = await deps.db.user.findUniqueOrThrow({ where: { id: userId } });
      if (!user.totpEnabledAt) throw new ConflictError("Two-factor sign-in is not on");
      if (!looksLikeTotpCode(code.trim())) throw wrongCode();
      return inTransaction(deps.db, async (tx) => {
        if ((await checkSecondFactor(tx, user, code, caller.metadata)) !== "totp")
          throw wrongCode();
        const codes = await issueRecoveryCodes(tx, userId);
        await audit(
          tx,
          userId,
          {
            type: "UserRecoveryCodesRegenerated",
            data: { userId, recoveryCodes: RECOVERY_CODE_COUNT },
          },
          caller.metadata,
        );
        return { recoveryCodes: codes };
      });
    },
  };
}

export type MfaService = ReturnType<typeof mfaService>;
