import { poolOf, type Db } from "../db/database.ts";
import { appendBatchCall, storedBatch, type AppendedBatchRow } from "../eventstore/appendBatch.ts";
import { createGroupCommit } from "../eventstore/groupCommit.ts";
import type { EventMetadata, StoredEvent } from "../eventstore/types.ts";
import { usageStream, type UsageEvent } from "../domain/usage/events.ts";
import { usageProjectionCtes, usageProjectionValues } from "./projectUsage.ts";

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
 */
export function createUsageLog(
  deps: { db: Db },
  options: { maxBatch?: number | undefined; lingerMs?: number | undefined } = {},
) {
  const pool = poolOf(deps.db);
  const text = `
    WITH appended AS MATERIALIZED (SELECT * FROM ${appendBatchCall(null, []).text}),
    ${usageProjectionCtes(2, 10)}
    SELECT event_index, event_position::text AS event_position, event_stream_version, event_prev_hash, event_hash
    FROM appended`;
  const commit = createGroupCommit<UsageRecord, StoredEvent>(async (organizationId, records) => {
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
      values: [...call.values, ...projection],
    });
    return storedBatch(organizationId, items, call.parts, result.rows);
  }, options);

  return {
    /** Appends one usage event (with its projection); resolves once it is committed. */
    record: (record: UsageRecord): Promise<StoredEvent> =>
      commit.submit(record.organizationId, record),
    drain: () => commit.drain(),
  };
}

export type UsageLog = ReturnType<typeof createUsageLog>;
