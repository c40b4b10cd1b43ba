import { preparedRows, type Db, type Tx } from "../db/database.ts";

export type Candidate = {
  /** A stored secret, or an OAuth connection answering `<provider>_oauth` (oauth/oauthCandidates.ts). */
  source: "secret" | "oauth";
  id: string;
  name: string;
  scope: "ORGANIZATION" | "WORKSPACE" | "PERSONAL";
  environment: string;
  currentVersion: number;
  keyNames: string[];
  ciphertext: string | null;
};

/** The scope keys a resolution in `workspaceId` may draw from (see secrets/projectSecret.ts). */
export function usableScopeKeys(workspaceId: string, onBehalfOfUserId: string | null): string[] {
  return [
    "organization",
    `workspace:${workspaceId}`,
    ...(onBehalfOfUserId ? [`personal:${workspaceId}:${onBehalfOfUserId}`] : []),
  ];
}

/**
 * Every live secret matching one of the (environment, name) pairs in the usable scopes,
 * with its current version's ciphertext when asked: ONE statement, however many refs.
 */
export async function lookupSecrets(
  db: Db | Tx,
  input: {
    organizationId: string;
    scopeKeys: string[];
    pairs: { environment: string; name: string }[];
    withCiphertext: boolean;
  },
): Promise<Candidate[]> {
  if (input.pairs.length === 0) return [];
  return preparedRows<Candidate>(
    db,
    "coffer_lookup_secrets",
    `SELECT 'secret' AS source, s.id::text AS id, s.name, s.scope, s.environment, s.current_version AS "currentVersion", s.key_names AS "keyNames",
            CASE WHEN $1::boolean THEN v.ciphertext END AS ciphertext
     FROM unnest($2::text[], $3::text[]) AS p(environment, name)
     JOIN secrets s ON s.organization_id = $4::uuid AND s.environment = p.environment AND s.name = p.name
     JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
     WHERE s.deleted_at IS NULL AND s.scope_key = ANY($5::text[])`,
    [
      input.withCiphertext,
      input.pairs.map((p) => p.environment),
      input.pairs.map((p) => p.name),
      input.organizationId,
      input.scopeKeys,
    ],
  );
}

/**
 * The ciphertexts stored now for the given secret versions (null once pruned): a re-wrap
 * may have replaced the ones a lookup returned. Keyed by `secretId:version`.
 */
export async function storedCiphertexts(
  db: Db | Tx,
  versions: { secretId: string; version: number }[],
): Promise<Map<string, string | null>> {
  if (versions.length === 0) return new Map();
  const rows = await db.$queryRaw<
    { secret_id: string; version: number; ciphertext: string | null }[]
  >`
    SELECT v.secret_id::text AS secret_id, v.version, v.ciphertext
    FROM unnest(${versions.map((v) => v.secretId)}::uuid[], ${versions.map((v) => v.version)}::int[]) AS p(secret_id, version)
    JOIN secret_versions v ON v.secret_id = p.secret_id AND v.version = p.version`;
  return new Map(rows.map((r) => [`${r.secret_id}:${r.version}`, r.ciphertext]));
}

const PRECEDENCE = { PERSONAL: 0, WORKSPACE: 1, ORGANIZATION: 2 } as const;

/** The key of a secret name within one environment, for maps over lookups. */
export const pairKey = (environment: string, name: string) => `${environment}\u0000${name}`;

/**
 * Precedence, per name and environment: the caller's PERSONAL secret, then the
 * WORKSPACE's, then the ORGANIZATION's. The chosen secret answers for all its keys; a key
 * it lacks is missing even if a lower scope has it (no mixing of credentials).
 */
export function choose(candidates: Candidate[]): Map<string, Candidate> {
  const chosen = new Map<string, Candidate>();
  for (const c of candidates) {
    const key = pairKey(c.environment, c.name);
    const current = chosen.get(key);
    if (!current || PRECEDENCE[c.scope] < PRECEDENCE[current.scope]) chosen.set(key, c);
  }
  return chosen;
}

/** For names that were not found: the other environments where they exist (failure path only). */
export async function otherEnvironments(
  db: Db,
  organizationId: string,
  scopeKeys: string[],
  names: string[],
  except: string,
) {
  if (names.length === 0) return [];
  return db.$queryRaw<{ name: string; environments: string[] }[]>`
    SELECT name, array_agg(DISTINCT environment ORDER BY environment) AS environments
    FROM secrets
    WHERE organization_id = ${organizationId}::uuid AND deleted_at IS NULL AND scope_key = ANY(${scopeKeys}::text[])
      AND name = ANY(${names}::text[]) AND environment <> ${except}
    GROUP BY name ORDER BY name`;
}
