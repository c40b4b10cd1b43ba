import { Prisma } from "../generated/prisma/client.ts";
import { canonicalJson } from "../canonicalJson.ts";
import type { Db } from "../db/database.ts";
import { readOrganizationPages } from "../eventstore/read.ts";
import { hashedRecord } from "../eventstore/hashChain.ts";
import type { StoredEvent } from "../eventstore/types.ts";

/**
 * Where an export starts: after a position (exclusive, like a cursor: pass the last
 * position you already have), or at the first event that occurred at or after a time.
 */
export type ExportSince = { afterPosition: bigint } | { from: Date };

/**
 * One line of an export: every stored field, encoded exactly as `eventHash` encodes it
 * (position as a decimal string, time as ISO 8601), so SHA-256 over the RFC 8785 canonical
 * JSON of the record without `hash` is `hash`. Derived from StoredEvent: a new stored field
 * cannot be left out of the export without a type error.
 */
export type ExportRecord = {
  [K in keyof StoredEvent]: K extends "position" | "occurredAt" ? string : StoredEvent[K];
};

export function toExportRecord(event: StoredEvent): ExportRecord {
  return { ...hashedRecord(event), streamVersion: event.streamVersion, hash: event.hash };
}

/**
 * An organization's events in position order as NDJSON lines (each ends with "\n"), read
 * `pageSize` at a time so memory stays constant whatever the log's length.
 *
 * The export is a contiguous piece of the organization's hash chain, so a verifier can
 * check every link: it ends at the head as of the start (events appended meanwhile are
 * left for the next export), and a start time is turned into the first position at or
 * after it — a time filter on every row could skip an event whose clock ran behind its
 * neighbour's and break the chain in the file.
 *
 * Lines are themselves canonical JSON (sorted keys, no whitespace), so the same events
 * always export to the same bytes.
 */
export async function* exportEventLines(
  db: Db,
  organizationId: string,
  options: { since?: ExportSince | undefined; pageSize?: number } = {},
): AsyncGenerator<string, void, undefined> {
  const pageSize = options.pageSize ?? 500;
  const bounds = await exportBounds(db, organizationId, options.since);
  if (!bounds) return;
  for await (const page of readOrganizationPages(db, organizationId, bounds.after, pageSize)) {
    for (const event of page) {
      if (event.position > bounds.through) return;
      yield `${canonicalJson(toExportRecord(event))}\n`;
    }
  }
}

/** The positions to export, `after` exclusive and `through` inclusive; null when none. */
async function exportBounds(
  db: Db,
  organizationId: string,
  since: ExportSince | undefined,
): Promise<{ after: bigint | undefined; through: bigint } | null> {
  const from = since && "from" in since ? since.from : null;
  const [row] = await db.$queryRaw<{ through: bigint | null; first: bigint | null }[]>`
    SELECT (SELECT max(position) FROM events WHERE organization_id = ${organizationId}::uuid) AS through,
           ${
             from
               ? Prisma.sql`(SELECT min(position) FROM events
                              WHERE organization_id = ${organizationId}::uuid AND occurred_at >= ${from})`
               : Prisma.sql`NULL::bigint`
           } AS first`;
  if (row?.through == null) return null;
  const through = BigInt(row.through);
  if (from) {
    if (row.first == null) return null;
    return { after: BigInt(row.first) - 1n, through };
  }
  const after = since && "afterPosition" in since ? since.afterPosition : undefined;
  if (after !== undefined && after >= through) return null;
  return { after, through };
}

/**
 * Joins lines into chunks of about `size` characters: one write per chunk instead of one
 * per event, for HTTP responses and files alike.
 */
export async function* inChunks(
  lines: AsyncIterable<string>,
  size = 64 * 1024,
): AsyncGenerator<string, void, undefined> {
  let chunk = "";
  for await (const line of lines) {
    chunk += line;
    if (chunk.length >= size) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}
