import { poolOf, type Db } from "../db/database.ts";
import { appendBatchCall, storedBatch, type AppendedBatchRow } from "../eventstore/appendBatch.ts";
import { createGroupCommit } from "../eventstore/groupCommit.ts";
import type { EventMetadata, StoredEvent } from "../eventstore/types.ts";
import { usageStream, type UsageEvent } from "../domain/usage/events.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import { usageProjectionCtes, usageProjectionValues } from "./projectUsage.ts";

/** The token ids a usage statement refused (SQLSTATE CF401, ids in DETAIL), if that is what failed. */
function deadTokens(error: unknown): Set<string> | null {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== "CF401") return null;
  const detail = (error as { detail?: unknown }).detail;
  return new Set(typeof detail === "string" ? detail.split(",") : []);
}

export type UsageRecord = {
  organizationId: string;
  workspaceId: string;
  event: UsageEvent;
  metadata: EventMetadata;
  now: Date;
};

/**
 * The usage audit's writer: resolutions of one organization queue their events, and each
 * batch is ONE statement (the chained append of every event and the projection of the
 * successful ones) committed on its own, sent as a named prepared statement. `record`
 * resolves only after that statement committed, so values are handed out only once their
 * own event is durable; a failed batch fails every resolution in it (AuditUnavailable).
 *
 * The same statement refuses API tokens that are no longer valid at their event's time
 * (coffer_require_live_tokens): a resolution whose token was revoked on any replica before
 * its event committed is refused (UnauthenticatedError) even if its token came from a
 * cache, and the rest of its batch is appended without it.
 */
export function createUsageLog(
  deps: { db: Db; onTokenRefused?: () => void },
  options: { maxBatch?: number | undefined; lingerMs?: number | undefined } = {},
) {
  const pool = poolOf(deps.db);
  // The guard is a one-time filter: a dead token fails the statement before the append runs.
  const text = `
    WITH guard AS MATERIALIZED (SELECT coffer_require_live_tokens($23::uuid[], $24::timestamptz[]) AS live),
    appended AS MATERIALIZED (SELECT * FROM ${appendBatchCall(null, []).text} WHERE (SELECT live FROM guard)),
    ${usageProjectionCtes(2, 10)}
    SELECT event_index, event_position::text AS event_position, event_stream_version, event_prev_hash, event_hash
    FROM appended`;
  const append = async (organizationId: string, records: UsageRecord[]) => {
    const items = records.map((r) => ({
      streamId: usageStream(r.workspaceId),
      event: r.event,
      metadata: r.metadata,
      now: r.now,
    }));
    const call = appendBatchCall(organizationId, items);
    const projection = usageProjectionValues(
      records.map((r, i) => ({
        index: i + 1,
        ...r.event,
        metadata: r.metadata,
        occurredAt: r.now,
      })),
    );
    const result = await pool.query<AppendedBatchRow>({
      name: "coffer_usage_batch",
      text,
      values: [
        ...call.values,
        ...projection,
        records.map((r) => r.metadata.tokenId ?? null),
        records.map((r) => r.now.toISOString()),
      ],
    });
    return storedBatch(organizationId, items, call.parts, result.rows);
  };
  const commit = createGroupCommit<UsageRecord, StoredEvent | UnauthenticatedError>(
    async (organizationId, records) => {
      try {
        return await append(organizationId, records);
      } catch (error) {
        const dead = deadTokens(error);
        if (!dead) throw error;
        // A token revoked (or expired) before this batch committed: its resolutions get
        // no values; the others' events are appended without them, in a batch of their own.
        deps.onTokenRefused?.();
        const live = records.filter((r) => !dead.has(r.metadata.tokenId ?? ""));
        const stored = live.length ? await append(organizationId, live) : [];
        const byRecord = new Map(live.map((r, i) => [r, stored[i]!]));
        return records.map((r) => byRecord.get(r) ?? new UnauthenticatedError());
      }
    },
    options,
  );

  return {
    /** Appends one usage event (with its projection); resolves once it is committed. */
    record: async (record: UsageRecord): Promise<StoredEvent> => {
      const stored = await commit.submit(record.organizationId, record);
      if (stored instanceof UnauthenticatedError) throw stored;
      return stored;
    },
    drain: () => commit.drain(),
  };
}

export type UsageLog = ReturnType<typeof createUsageLog>;
