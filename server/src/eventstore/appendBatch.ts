import { chainKeyOf } from "./append.ts";
import { createHash } from "node:crypto";
import { eventHashPieces } from "./hashChain.ts";
import type { EventMetadata, NewEvent, StoredEvent } from "./types.ts";

/** One event of a group-committed batch: its own stream (no expected version), actor, time. */
export type BatchItem = {
  streamId: string;
  event: NewEvent;
  metadata: EventMetadata;
  now: Date;
};

/**
 * The call of coffer_append_batch (prisma/migrations/…_append_batch) for one organization's
 * batch, as SQL text with placeholders $1…$9 and their values: the caller places it in a
 * statement of its own (`WITH appended AS MATERIALIZED (SELECT * FROM <call>) …`), so the
 * chain lock is taken once and held only while that statement and its COMMIT run.
 */
export function appendBatchCall(organizationId: string | null, items: readonly BatchItem[]) {
  const pieces = items.map((item) =>
    eventHashPieces({
      streamId: item.streamId,
      type: item.event.type,
      schemaVersion: item.event.schemaVersion ?? 1,
      data: item.event.data,
      metadata: item.metadata,
      organizationId,
      occurredAt: item.now,
    }),
  );
  // As coffer_append_events' pieces: before position, between previous hash and version, after.
  const parts = pieces.map(
    ([data, metadata, beforePosition, beforeVersion, after]) =>
      [
        `{"data":${data},"metadata":${metadata}${beforePosition}`,
        `","prevHash":"`,
        beforeVersion,
        after,
      ] as const,
  );
  return {
    parts,
    text: `coffer_append_batch($1, $2::uuid, $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::timestamptz[], $9::text[])`,
    values: [
      chainKeyOf(organizationId),
      organizationId,
      items.map((i) => i.streamId),
      items.map((i) => i.event.type),
      items.map((i) => i.event.schemaVersion ?? 1),
      pieces.map((p) => p[0]),
      pieces.map((p) => p[1]),
      items.map((i) => i.now.toISOString()),
      pieces.flatMap((p) => p.slice(2)),
    ] as unknown[],
  };
}

export type AppendedBatchRow = {
  event_index: number;
  event_position: string;
  event_stream_version: number;
  event_prev_hash: string;
  event_hash: string;
};

/**
 * The stored events, in batch order. Each hash the database computed is checked against
 * the pieces sent (which eventHashParts verified against the canonical text): the same
 * check appendToStream makes, without encoding every event a second time.
 */
export function storedBatch(
  organizationId: string | null,
  items: readonly BatchItem[],
  parts: readonly (readonly [string, string, string, string])[],
  rows: readonly AppendedBatchRow[],
): StoredEvent[] {
  if (rows.length !== items.length)
    throw new Error(`the batch appended ${rows.length} of ${items.length} events`);
  const byIndex = new Map(rows.map((r) => [r.event_index, r]));
  return items.map((item, i) => {
    const row = byIndex.get(i + 1)!;
    const stored: StoredEvent = {
      position: BigInt(row.event_position),
      streamId: item.streamId,
      streamVersion: row.event_stream_version,
      type: item.event.type,
      schemaVersion: item.event.schemaVersion ?? 1,
      data: item.event.data,
      metadata: item.metadata,
      organizationId,
      occurredAt: item.now,
      prevHash: row.event_prev_hash,
      hash: row.event_hash,
    };
    const [a, b, c, d] = parts[i]!;
    const text = `${a}${row.event_position}${b}${row.event_prev_hash}${c}${row.event_stream_version}${d}`;
    if (createHash("sha256").update(text, "utf8").digest("hex") !== stored.hash)
      throw new Error(`event hash computed by the database differs at position ${stored.position}`);
    return stored;
  });
}
