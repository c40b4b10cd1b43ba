import type { Db, Tx } from "../db/database.ts";
import { fold, type Decider } from "../domain/decider.ts";
import { appendToStream, lockChain } from "./append.ts";
import { ConflictError } from "../errors/ConflictError.ts";
import { unavailableOnConnectionLoss } from "../errors/DatabaseUnavailableError.ts";
import { ConcurrencyError } from "./ConcurrencyError.ts";
import { readStream } from "./read.ts";
import type { EventMetadata, StoredEvent } from "./types.ts";

type DomainEvent = { type: string; data: object };

export type CommandInput<C, E extends DomainEvent, S> = {
  streamId: string;
  organizationId: string | null;
  decider: Decider<C, E, S>;
  command: C;
  metadata: EventMetadata;
  now: Date;
  /** Writes the projections for the new events, inside the same transaction. */
  project: (tx: Tx, events: E[], now: Date) => Promise<void>;
};

/**
 * Lock the organization's chain, load the stream, fold it into state, decide, project,
 * append: all inside `tx`.
 * Projections are written before the append so that an append that fails (a concurrent
 * writer, the database refusing the insert) rolls back the state change with it.
 */
export async function executeCommand<C, E extends DomainEvent, S>(
  tx: Tx,
  input: CommandInput<C, E, S>,
): Promise<{ events: StoredEvent[]; state: S }> {
  // Taking the chain lock first makes read → decide → project → append one critical
  // section per organization: a concurrent writer waits, then sees our events.
  await lockChain(tx, input.organizationId);
  const history = await readStream(tx, input.streamId);
  const state = fold(input.decider, history as unknown as E[]);
  const decided = input.decider.decide(input.command, state);
  if (decided.length === 0) return { events: [], state };
  await input.project(tx, decided, input.now);
  const events = await appendToStream(tx, {
    streamId: input.streamId,
    organizationId: input.organizationId,
    expectedVersion: history.length === 0 ? "no_stream" : history.length,
    events: decided.map((e) => ({ type: e.type, data: e.data as Record<string, unknown> })),
    metadata: input.metadata,
    now: input.now,
  });
  return { events, state: decided.reduce(input.decider.evolve, state) };
}

/**
 * Runs `work` in one transaction, with the patience commands get (5 s to obtain a
 * connection, 15 s in all); a lost connection is a DatabaseUnavailableError. No retry: for
 * callers that handle a concurrent writer themselves (secretService re-encrypts first).
 */
export function oneTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return unavailableOnConnectionLoss(() =>
    db.$transaction(work, { maxWait: 5_000, timeout: 15_000 }),
  );
}

/**
 * Runs `work` in one transaction and retries it (a fresh read, a fresh decision) when a
 * concurrent writer moved a stream on. A decision made again on new state is not a lost
 * update: the decider re-checks every rule.
 */
export async function inTransaction<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await oneTransaction(db, work);
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      if (attempt >= attempts)
        throw new ConflictError(
          "The object was changed by someone else at the same time; try again",
        );
    }
  }
}
