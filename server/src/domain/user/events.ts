/** Users live outside any one organization: their events form the global chain. */
export type UserEvent =
  | { type: "UserRegistered"; data: { userId: string; email: string; name: string } }
  | { type: "UserSignedIn"; data: { userId: string; sessionId: string } }
  | { type: "UserSignedOut"; data: { userId: string; sessionId: string } }
  /** The user ended one of their sessions from another (the session list). */
  | { type: "UserSessionRevoked"; data: { userId: string; sessionId: string } }
  | { type: "UserPasswordChanged"; data: { userId: string } };

export const userStream = (userId: string) => `user-${userId}`;
