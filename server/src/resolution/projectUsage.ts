import type { Tx } from "../db/database.ts";
import type { UsageEvent } from "../domain/usage/events.ts";
import type { EventMetadata, StoredEvent } from "../eventstore/types.ts";

type Resolved = Extract<UsageEvent, { type: "SecretsResolved" }>["data"];

/** A usage event to project: its place in its batch (1-based) and what it records. */
export type ProjectedUsage = {
  index: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  occurredAt: Date;
};

/**
 * The projection of SecretsResolved events: one `secret_usage` row per stored secret used
 * (Recent usage) and the last-used times, as common table expressions (`used`, `touched`)
 * over a relation `appended(event_index, event_position)` that the statement defines
 * first: the group-committed append (resolution/usageLog.ts) or, on replay, the positions
 * of events already stored. One text for both, so a replay rebuilds exactly the rows the
 * hot path wrote (row ids aside). A secret's last use is kept to the second, and written
 * only when that second changes: a secret resolved hundreds of times a second is updated
 * about once a second, not once per resolution, and the result does not depend on how
 * events were batched (the latest truncated time wins). `$organization` is the organization's placeholder; the
 * 13 columns of usageProjectionValues take the placeholders from `$first` on.
 *
 * OAuth connections are not touched here: their rows are locked while a token is refreshed,
 * and waiting for that while holding the organization's chain lock could deadlock (the
 * resolution service notes their last use after the commit).
 */
export function usageProjectionCtes(organization: number, first: number): string {
  const $ = (n: number) => `$${first + n - 1}`;
  return `
    used AS (
      INSERT INTO secret_usage (id, secret_id, organization_id, workspace_id, environment, version, key_names,
                                actor_kind, actor_id, on_behalf_of, workflow_id, run_id, action_ref, event_position, used_at)
      SELECT gen_random_uuid(), u.secret_id, $${organization}::uuid, u.workspace_id, u.environment, u.version, string_to_array(u.key_names, ','),
             u.actor_kind, u.actor_id, u.on_behalf_of, u.workflow_id, u.run_id, u.action_ref, a.event_position, u.used_at
      FROM unnest(${$(1)}::int[], ${$(2)}::uuid[], ${$(3)}::uuid[], ${$(4)}::text[], ${$(5)}::int[],
                  ${$(6)}::text[], ${$(7)}::text[], ${$(8)}::text[], ${$(9)}::uuid[], ${$(10)}::text[], ${$(11)}::text[],
                  ${$(12)}::text[], ${$(13)}::timestamptz[])
        AS u(event_index, secret_id, workspace_id, environment, version, key_names, actor_kind, actor_id,
             on_behalf_of, workflow_id, run_id, action_ref, used_at)
      JOIN appended a ON a.event_index = u.event_index
      RETURNING secret_id, used_at
    ),
    touched AS (
      UPDATE secrets s SET last_used_at = t.at
      FROM (SELECT secret_id, date_trunc('second', max(used_at)) AS at FROM used GROUP BY secret_id) t
      WHERE s.id = t.secret_id AND (s.last_used_at IS NULL OR s.last_used_at < t.at)
    )`;
}

/** The values of usageProjectionCtes' 13 column placeholders, in order. */
export function usageProjectionValues(events: readonly ProjectedUsage[]): unknown[] {
  const rows = events.flatMap((event) => {
    if (event.type !== "SecretsResolved") return [];
    const data = event.data as Resolved;
    return data.secrets
      .filter((s) => s.dynamic !== "oauth")
      .map((s) => ({ event, data, secret: s }));
  });
  const column = <V>(pick: (row: (typeof rows)[number]) => V) => rows.map(pick);
  return [
    column((r) => r.event.index),
    column((r) => r.secret.secretId),
    column((r) => r.data.workspaceId),
    column((r) => r.secret.environment),
    column((r) => r.secret.version),
    column((r) => r.secret.keyNames.join(",")),
    column((r) => r.event.metadata.actor.kind),
    column((r) => r.event.metadata.actor.id),
    column((r) => r.data.onBehalfOf),
    column((r) => r.data.purpose.workflowId),
    column((r) => r.data.purpose.runId),
    column((r) => r.data.purpose.actionRef),
    column((r) => r.event.occurredAt.toISOString()),
  ];
}

/** Replay (projections/replay.ts): the same projection for one event already stored. */
export async function projectUsage(tx: Tx, event: StoredEvent): Promise<void> {
  await tx.$executeRawUnsafe(
    `WITH appended AS (SELECT 1 AS event_index, $1::bigint AS event_position), ${usageProjectionCtes(2, 3)} SELECT 1`,
    event.position.toString(),
    event.organizationId,
    ...usageProjectionValues([{ ...event, index: 1 }]),
  );
}
