import { Prisma } from "../generated/prisma/client.ts";
import type { Tx } from "../db/database.ts";
import { ConcurrencyError } from "./ConcurrencyError.ts";
import { GENESIS_HASH, eventHash } from "./hashChain.ts";
import type { EventMetadata, ExpectedVersion, NewEvent, StoredEvent } from "./types.ts";

/**
 * Appends events inside the caller's transaction, so the state change they describe and
 * the events commit together or not at all.
 *
 * One transaction-scoped advisory lock per organization chain serialises appends of that
 * organization: positions then increase along the chain, the previous hash read below is
 * the true head, and the expected-version check cannot race. The unique
 * (stream_id, stream_version) index is the backstop.
 */
export async function appendToStream(
  tx: Tx,
  input: {
    streamId: string;
    organizationId: string | null;
    expectedVersion: ExpectedVersion;
    events: NewEvent[];
    metadata: EventMetadata;
    now: Date;
  },
): Promise<StoredEvent[]> {
  const { streamId, organizationId, expectedVersion, events, metadata, now } = input;
  if (events.length === 0) return [];
  await lockChain(tx, organizationId);

  // One round trip after the lock (a statement's snapshot is taken when it starts, so the
  // lock must be its own, earlier statement): the stream's version, the chain's head hash
  // and the positions of the new events.
  const [state] = organizationId
    ? await tx.$queryRaw<{ version: number | null; head: string | null; positions: bigint[] }[]>`
        SELECT (SELECT max(stream_version) FROM events WHERE stream_id = ${streamId}) AS version,
               (SELECT hash FROM events WHERE organization_id = ${organizationId}::uuid ORDER BY position DESC LIMIT 1) AS head,
               ARRAY(SELECT nextval(pg_get_serial_sequence('events', 'position')) FROM generate_series(1, ${events.length}::int)) AS positions`
    : await tx.$queryRaw<{ version: number | null; head: string | null; positions: bigint[] }[]>`
        SELECT (SELECT max(stream_version) FROM events WHERE stream_id = ${streamId}) AS version,
               (SELECT hash FROM events WHERE organization_id IS NULL ORDER BY position DESC LIMIT 1) AS head,
               ARRAY(SELECT nextval(pg_get_serial_sequence('events', 'position')) FROM generate_series(1, ${events.length}::int)) AS positions`;
  const actual = state?.version ?? 0;
  if (
    expectedVersion === "no_stream"
      ? actual !== 0
      : expectedVersion !== "any" && expectedVersion !== actual
  ) {
    throw new ConcurrencyError(streamId, String(expectedVersion), actual);
  }
  let prevHash = state?.head ?? GENESIS_HASH;
  const positions = (state?.positions ?? []).map((position) => ({ position: BigInt(position) }));

  const stored: StoredEvent[] = events.map((event, i) => {
    const unhashed = {
      position: positions[i]!.position,
      streamId,
      streamVersion: actual + i + 1,
      type: event.type,
      schemaVersion: event.schemaVersion ?? 1,
      data: event.data,
      metadata,
      organizationId,
      occurredAt: now,
      prevHash,
    };
    prevHash = eventHash(unhashed);
    return { ...unhashed, hash: prevHash };
  });

  try {
    await tx.$executeRaw`
      INSERT INTO events (position, stream_id, stream_version, type, schema_version, data, metadata,
                          organization_id, occurred_at, prev_hash, hash)
      SELECT * FROM unnest(
        ${stored.map((e) => e.position)}::bigint[], ${stored.map((e) => e.streamId)}::text[],
        ${stored.map((e) => e.streamVersion)}::int[], ${stored.map((e) => e.type)}::text[],
        ${stored.map((e) => e.schemaVersion)}::int[], ${stored.map((e) => JSON.stringify(e.data))}::jsonb[],
        ${stored.map((e) => JSON.stringify(e.metadata))}::jsonb[], ${stored.map((e) => e.organizationId)}::uuid[],
        ${stored.map((e) => e.occurredAt)}::timestamptz[], ${stored.map((e) => e.prevHash)}::char(64)[],
        ${stored.map((e) => e.hash)}::char(64)[])`;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && isUniqueViolation(error)) {
      throw new ConcurrencyError(streamId, String(expectedVersion), actual + 1);
    }
    throw error;
  }
  return stored;
}

function isUniqueViolation(error: Prisma.PrismaClientKnownRequestError): boolean {
  return error.code === "P2002" || (error.code === "P2010" && String(error.meta?.code) === "23505");
}

/**
 * Serialises writers of one organization's chain until the transaction ends. Re-entrant:
 * a command takes it before reading its stream, and the append takes it again for free.
 */
export async function lockChain(tx: Tx, organizationId: string | null): Promise<void> {
  const chainKey = `coffer-chain:${organizationId ?? "global"}`;
  const held = heldLocks.get(tx) ?? new Set<string>();
  if (held.has(chainKey)) return; // already ours until this transaction ends
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${chainKey}, 0))`;
  held.add(chainKey);
  heldLocks.set(tx, held);
}

/** Chain locks taken per transaction client (each interactive transaction has its own). */
const heldLocks = new WeakMap<Tx, Set<string>>();
