import type { Tx } from "../db/database.ts";
import { appendToStream } from "../eventstore/append.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import { userStream, type UserEvent } from "../domain/user/events.ts";
import { hashPassword, MIN_PASSWORD_LENGTH } from "../auth/passwords.ts";
import { conflictOnUnique } from "../errors/prismaErrors.ts";
import { ValidationError } from "../errors/ValidationError.ts";

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Creates a user inside the caller's transaction. The password hash stays in `users`
 * and never enters the event log. `password: null` is an account made by single sign-on,
 * which no password opens.
 */
export async function registerUser(
  tx: Tx,
  input: {
    userId: string;
    email: string;
    name: string;
    password: string | null;
    metadata: EventMetadata;
    now: Date;
  },
): Promise<void> {
  if (input.password !== null && input.password.length < MIN_PASSWORD_LENGTH) {
    throw ValidationError.fromIssues([
      { path: "password", message: `must be at least ${MIN_PASSWORD_LENGTH} characters` },
    ]);
  }
  const email = normalizeEmail(input.email);
  const passwordHash = input.password === null ? null : await hashPassword(input.password);
  await conflictOnUnique(
    () =>
      tx.user.create({
        data: { id: input.userId, email, name: input.name, passwordHash, createdAt: input.now },
      }),
    `A user with the email ${email} already exists`,
  );
  const event: UserEvent = {
    type: "UserRegistered",
    data: { userId: input.userId, email, name: input.name },
  };
  await appendToStream(tx, {
    streamId: userStream(input.userId),
    organizationId: null,
    expectedVersion: "no_stream",
    events: [event],
    metadata: input.metadata,
    now: input.now,
  });
}

/** Appends one event to the user's stream (outside any organization's chain), inside `tx`. */
export function recordUserEvent(
  tx: Tx,
  userId: string,
  event: UserEvent,
  metadata: EventMetadata,
  now: Date,
) {
  return appendToStream(tx, {
    streamId: userStream(userId),
    organizationId: null,
    expectedVersion: "any",
    events: [event],
    metadata,
    now,
  });
}
