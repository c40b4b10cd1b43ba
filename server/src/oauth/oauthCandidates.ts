import type { Db } from "../db/database.ts";
import type { OAuthConnection } from "../generated/prisma/client.ts";
import type { Candidate } from "../resolution/lookupSecrets.ts";
import { oauthSecretName, oauthTokenKey, parseOAuthRef } from "./providerId.ts";

/** Secret names ending in `_oauth` are answered by OAuth connections, never by stored secrets. */
export const isOAuthName = (name: string) =>
  name.endsWith("_oauth") && parseOAuthRef(name, "") !== null;

/** The live connections behind `<provider>_oauth` names, in ONE statement. */
export async function lookupConnections(
  db: Db,
  input: { workspaceId: string; environment: string; names: string[] },
): Promise<OAuthConnection[]> {
  const providerIds = input.names.map((n) => n.slice(0, -"_oauth".length));
  if (providerIds.length === 0) return [];
  return db.oAuthConnection.findMany({
    where: {
      workspaceId: input.workspaceId,
      environment: input.environment,
      providerId: { in: providerIds },
      disconnectedAt: null,
    },
  });
}

/**
 * Connections as resolution candidates: `<provider>_oauth` answers `<PROVIDER>_USER_TOKEN`
 * from its USER connection and `<PROVIDER>_SERVICE_TOKEN` from its SERVICE connection.
 */
export function connectionCandidates(connections: OAuthConnection[]): Candidate[] {
  const byProvider = new Map<string, OAuthConnection[]>();
  for (const c of connections)
    byProvider.set(c.providerId, [...(byProvider.get(c.providerId) ?? []), c]);
  return connections.map((c) => ({
    source: "oauth",
    id: c.id,
    name: oauthSecretName(c.providerId),
    scope: "WORKSPACE",
    environment: c.environment,
    currentVersion: 0,
    keyNames: [oauthTokenKey(c.providerId, c.kind as "USER" | "SERVICE")],
    ciphertext: c.accessTokenCiphertext,
  }));
}
