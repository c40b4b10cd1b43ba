import type { Db } from "../db/database.ts";

/**
 * The projection columns that events determine, per table. Left out on purpose: secrets
 * the log never holds (password and token hashes, ciphertexts and their key versions),
 * operational state (sessions, token last-used times, OAuth providers and connections,
 * re-wrap job progress, OAuth flows), and random row ids of secret_usage.
 */
export const REPLAYABLE: Record<string, string[]> = {
  users: ["id", "email", "name", "created_at"],
  organizations: [
    "id",
    "slug",
    "name",
    "created_at",
    "version",
    "transit_key",
    "transit_min_version",
    "deleted_at",
    "require_mfa",
  ],
  org_members: ["organization_id", "user_id", "role", "added_at"],
  workspaces: ["id", "organization_id", "slug", "name", "aws_external_id", "created_at", "version"],
  workspace_members: ["workspace_id", "user_id", "role", "added_at"],
  environments: ["id", "workspace_id", "name", "created_at"],
  api_tokens: [
    "id",
    "organization_id",
    "workspace_id",
    "name",
    "permissions",
    "prefix",
    "created_by",
    "created_at",
    "expires_at",
    "revoked_at",
  ],
  invitations: [
    "id",
    "organization_id",
    "email",
    "role",
    "invited_by",
    "created_at",
    "expires_at",
    "status",
    "accepted_user_id",
    "closed_at",
  ],
  secrets: [
    "id",
    "organization_id",
    "workspace_id",
    "owner_user_id",
    "scope",
    "scope_key",
    "environment",
    "name",
    "type",
    "template_id",
    "description",
    "key_names",
    "current_version",
    "stream_version",
    "created_by",
    "created_at",
    "updated_at",
    "deleted_at",
    "last_used_at",
  ],
  secret_versions: [
    "secret_id",
    "version",
    "organization_id",
    "key_names",
    "origin",
    "restored_from",
    "created_by",
    "created_at",
    "pruned_at",
  ],
  secret_usage: [
    "secret_id",
    "organization_id",
    "workspace_id",
    "environment",
    "version",
    "key_names",
    "actor_kind",
    "actor_id",
    "on_behalf_of",
    "workflow_id",
    "run_id",
    "action_ref",
    "event_position",
    "used_at",
  ],
};

export type ProjectionDifference = { table: string; onlyLive: string[]; onlyReplayed: string[] };

/** Rows (as canonical text) that differ between the live and the replayed projections. */
export async function compareProjections(live: Db, replayed: Db): Promise<ProjectionDifference[]> {
  const differences: ProjectionDifference[] = [];
  for (const [table, columns] of Object.entries(REPLAYABLE)) {
    const [a, b] = await Promise.all([rows(live, table, columns), rows(replayed, table, columns)]);
    const inB = new Set(b);
    const inA = new Set(a);
    const onlyLive = a.filter((r) => !inB.has(r));
    const onlyReplayed = b.filter((r) => !inA.has(r));
    if (onlyLive.length || onlyReplayed.length)
      differences.push({
        table,
        onlyLive: onlyLive.slice(0, 5),
        onlyReplayed: onlyReplayed.slice(0, 5),
      });
  }
  return differences;
}

async function rows(db: Db, table: string, columns: string[]): Promise<string[]> {
  const list = columns.map((c) => `"${c}"`).join(", ");
  const result = await db.$queryRawUnsafe<{ row: string }[]>(
    `SELECT row_to_json(t)::text AS row FROM (SELECT ${list} FROM "${table}") t ORDER BY 1`,
  );
  return result.map((r) => r.row);
}
