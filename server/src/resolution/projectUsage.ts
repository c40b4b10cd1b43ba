import type { Tx } from "../db/database.ts";
import { Prisma } from "../generated/prisma/client.ts";
import type { UsageEvent } from "../domain/usage/events.ts";
import type { StoredEvent } from "../eventstore/types.ts";

/**
 * The projection of a SecretsResolved event: one `secret_usage` row per stored secret used
 * (Recent usage) and the last-used times, in one statement on the hot path. OAuth
 * connections are not touched here: their rows are locked while a token is refreshed, and
 * waiting for that while holding the organization's chain lock could deadlock (the
 * resolution service notes their last use after the commit). Everything comes from the
 * event itself, so a replay rebuilds exactly the same rows (row ids aside).
 */
export async function projectUsage(tx: Tx, event: StoredEvent, newId: () => string): Promise<void> {
  await tx.$executeRaw`WITH ${usageProjection(event, Prisma.sql`${event.position}`, newId)} SELECT 1`;
}

/**
 * The projection as common table expressions (`used`, `touched`), to run in the statement
 * that appends the event (eventstore/append.ts appendAlone), where the event's position is
 * `position`, an SQL expression.
 */
export function usageProjection(
  event: Pick<StoredEvent, "organizationId" | "data" | "metadata" | "occurredAt">,
  position: Prisma.Sql,
  newId: () => string,
): Prisma.Sql {
  const data = event.data as Extract<UsageEvent, { type: "SecretsResolved" }>["data"];
  const stored = data.secrets.filter((s) => s.dynamic !== "oauth");
  const { actor } = event.metadata;
  const now = event.occurredAt;
  return Prisma.sql`
    used AS (
      INSERT INTO secret_usage (id, secret_id, organization_id, workspace_id, environment, version, key_names,
                                actor_kind, actor_id, on_behalf_of, workflow_id, run_id, action_ref, event_position, used_at)
      SELECT u.id, u.secret_id, ${event.organizationId}::uuid, ${data.workspaceId}::uuid, u.environment, u.version,
             string_to_array(u.key_names, ','), ${actor.kind}, ${actor.id}, ${data.onBehalfOf}::uuid,
             ${data.purpose.workflowId}, ${data.purpose.runId}, ${data.purpose.actionRef}, ${position}, ${now}
      FROM unnest(${stored.map(() => newId())}::uuid[], ${stored.map((u) => u.secretId)}::uuid[],
                  ${stored.map((u) => u.environment)}::text[], ${stored.map((u) => u.version)}::int[],
                  ${stored.map((u) => u.keyNames.join(","))}::text[])
        AS u(id, secret_id, environment, version, key_names)
      RETURNING secret_id
    ),
    touched AS (UPDATE secrets SET last_used_at = ${now} WHERE id IN (SELECT secret_id FROM used))`;
}
