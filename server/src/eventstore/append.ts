import { Prisma } from "../generated/prisma/client.ts";
import type { Tx } from "../db/database.ts";
import { ConcurrencyError } from "./ConcurrencyError.ts";
import { eventHash, eventHashParts } from "./hashChain.ts";
import type { EventMetadata, ExpectedVersion, NewEvent, StoredEvent } from "./types.ts";

/**
 * Appends events inside the caller's transaction, so the state change they describe and
 * the events commit together or not at all.
 *
 * One transaction-scoped advisory lock per organization chain serialises appends of that
 * organization: positions then increase along the chain, the previous hash is the true
 * head, and the expected-version check cannot race. The unique (stream_id, stream_version)
 * index is the backstop. Lock, check, head and insert are one statement (the database
 * function coffer_append_events), so the lock is held for as short a time as possible.
 */
export type AppendInput = {
  streamId: string;
  organizationId: string | null;
  expectedVersion: ExpectedVersion;
  events: NewEvent[];
  metadata: EventMetadata;
  now: Date;
};

type AppendedRow = {
  event_position: bigint;
  event_stream_version: number;
  event_prev_hash: string;
  event_hash: string;
};

export async function appendToStream(tx: Tx, input: AppendInput): Promise<StoredEvent[]> {
  if (input.events.length === 0) return [];
  const rows = await sendAppend(
    input,
    (call) => tx.$queryRaw<AppendedRow[]>`SELECT * FROM ${call}`,
  );
  markHeld(tx, chainKeyOf(input.organizationId));
  return storedEvents(input, rows);
}

/** Sends the append (prisma/migrations/…_append_function): lock, version check, head, insert. */
async function sendAppend(
  input: AppendInput,
  send: (call: Prisma.Sql) => Promise<AppendedRow[]>,
): Promise<AppendedRow[]> {
  const { streamId, organizationId, expectedVersion, events, metadata, now } = input;
  const parts = events.map((event) =>
    eventHashParts({
      streamId,
      type: event.type,
      schemaVersion: event.schemaVersion ?? 1,
      data: event.data,
      metadata,
      organizationId,
      occurredAt: now,
    }),
  );
  const expected =
    expectedVersion === "any" ? null : expectedVersion === "no_stream" ? 0 : expectedVersion;
  try {
    return await send(Prisma.sql`coffer_append_events(
        ${chainKeyOf(organizationId)}, ${streamId}, ${organizationId}::uuid, ${expected}::int,
        ${events.map((e) => e.type)}::text[], ${events.map((e) => e.schemaVersion ?? 1)}::int[],
        ${events.map((e) => JSON.stringify(e.data))}::jsonb[], ${JSON.stringify(metadata)}::jsonb,
        ${now}::timestamptz, ${parts.flat()}::text[])`);
  } catch (error) {
    const actual = concurrencyConflict(error);
    if (actual !== null) throw new ConcurrencyError(streamId, String(expectedVersion), actual);
    if (error instanceof Prisma.PrismaClientKnownRequestError && isUniqueViolation(error))
      throw new ConcurrencyError(streamId, String(expectedVersion), (expected ?? 0) + 1);
    throw error;
  }
}

function storedEvents(input: AppendInput, rows: AppendedRow[]): StoredEvent[] {
  const stored: StoredEvent[] = input.events.map((event, i) => ({
    position: BigInt(rows[i]!.event_position),
    streamId: input.streamId,
    streamVersion: rows[i]!.event_stream_version,
    type: event.type,
    schemaVersion: event.schemaVersion ?? 1,
    data: event.data,
    metadata: input.metadata,
    organizationId: input.organizationId,
    occurredAt: input.now,
    prevHash: rows[i]!.event_prev_hash,
    hash: rows[i]!.event_hash,
  }));
  // The database hashed what the application would have (eventHashParts checks its own
  // half before sending): checked again, since the chain's verifiers recompute it here.
  for (const event of stored)
    if (eventHash(event) !== event.hash)
      throw new Error(`event hash computed by the database differs at position ${event.position}`);
  return stored;
}

/** The stream's actual version from coffer_append_events' conflict (SQLSTATE CF001), else null. */
function concurrencyConflict(error: unknown): number | null {
  const match = /coffer_concurrency: the stream is at version (\d+)/.exec(
    error instanceof Error ? error.message : String(error),
  );
  return match ? Number(match[1]) : null;
}

function isUniqueViolation(error: Prisma.PrismaClientKnownRequestError): boolean {
  return error.code === "P2002" || (error.code === "P2010" && String(error.meta?.code) === "23505");
}

/**
 * Serialises writers of one organization's chain until the transaction ends. Re-entrant:
 * a command takes it before reading its stream, and the append takes it again for free.
 */
export async function lockChain(tx: Tx, organizationId: string | null): Promise<void> {
  const chainKey = chainKeyOf(organizationId);
  if (heldLocks.get(tx)?.has(chainKey)) return; // already ours until this transaction ends
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${chainKey}, 0))`;
  markHeld(tx, chainKey);
}

export const chainKeyOf = (organizationId: string | null) =>
  `coffer-chain:${organizationId ?? "global"}`;

function markHeld(tx: Tx, chainKey: string) {
  const held = heldLocks.get(tx) ?? new Set<string>();
  held.add(chainKey);
  heldLocks.set(tx, held);
}

/** Chain locks taken per transaction client (each interactive transaction has its own). */
const heldLocks = new WeakMap<Tx, Set<string>>();
