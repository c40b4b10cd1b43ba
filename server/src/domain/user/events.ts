/** Users live outside any one organization: their events form the global chain. */
export type UserEvent =
  | { type: "UserRegistered"; data: { userId: string; email: string; name: string } }
  /** `method` is absent for a password sign-in recorded before it existed. */
  | {
      type: "UserSignedIn";
      data: { userId: string; sessionId: string; method?: "password" | "invitation" | "sso" };
    }
  | { type: "UserSignedOut"; data: { userId: string; sessionId: string } }
  /** The user ended one of their sessions from another (the session list). */
  | { type: "UserSessionRevoked"; data: { userId: string; sessionId: string } }
  | { type: "UserPasswordChanged"; data: { userId: string } }
  /** A sign-in refused for a known user: wrong password, or a missing or wrong second factor. */
  | { type: "UserSignInFailed"; data: { userId: string; reason: "password" | "mfa" } }
  /** TOTP confirmed with a first code; recovery codes issued (their count, never the codes). */
  | { type: "UserMfaEnabled"; data: { userId: string; method: "totp"; recoveryCodes: number } }
  | { type: "UserMfaDisabled"; data: { userId: string } }
  | { type: "UserRecoveryCodesRegenerated"; data: { userId: string; recoveryCodes: number } }
  /** A recovery code stood in for a TOTP code at sign-in (it is spent). */
  | { type: "UserRecoveryCodeUsed"; data: { userId: string; remaining: number } };

export const userStream = (userId: string) => `user-${userId}`;
