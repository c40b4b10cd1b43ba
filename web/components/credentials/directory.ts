"use client";

import { toGlobalId, toLocalId } from "../../lib/ids.ts";
import { MEMBERS, TOKEN_NAMES } from "../../lib/operations.ts";
import { useQuery } from "../../lib/useQuery.ts";

/**
 * Turns the ids that versions, usage and audit events carry (a user id, a token id) into
 * names a person recognises. Unknown ids stay visible as they are.
 */
export type Directory = {
  user(id: string): string | undefined;
  token(id: string): string | undefined;
  members: { id: string; email: string }[];
};

/** Members of the organization, and the tokens among `tokenIds` (local ids) by name. */
export function useDirectory(organizationId: string, tokenIds: string[]): Directory {
  const members = useQuery(MEMBERS, { id: toGlobalId("Organization", organizationId) });
  const ids = [...new Set(tokenIds)].sort().map((id) => toGlobalId("ApiToken", id));
  const tokens = useQuery(TOKEN_NAMES, { ids }, { skip: ids.length === 0 });
  const users = new Map<string, string>();
  for (const { node } of members.data?.organization?.members.edges ?? [])
    users.set(node.user.id, node.user.email);
  const names = new Map<string, string>();
  for (const node of tokens.data?.nodes ?? [])
    if (node?.id && node.name) names.set(toLocalId(node.id), `${node.name} (${node.prefix}…)`);
  return {
    user: (id) => users.get(id),
    token: (id) => names.get(id),
    members: [...users.entries()].map(([id, email]) => ({ id, email })),
  };
}

/** "admin@coffer.local", "API token ci-runner (cof_ab…)", or the raw reference. */
export function describeActor(directory: Directory, kind: string, id: string): string {
  if (kind === "user") return directory.user(id) ?? `user ${id}`;
  if (kind === "token") {
    const token = directory.token(id);
    return token ? `API token ${token}` : `API token ${id}`;
  }
  return `${kind} ${id}`;
}

/** A version's `createdBy` (`user:<id>`, `token:<id>`, `system:<name>`). */
export function describeCreatedBy(directory: Directory, createdBy: string): string {
  const [kind, id] = splitCreatedBy(createdBy);
  return id ? describeActor(directory, kind, id) : createdBy;
}

export function splitCreatedBy(createdBy: string): [string, string] {
  const colon = createdBy.indexOf(":");
  return colon < 0 ? [createdBy, ""] : [createdBy.slice(0, colon), createdBy.slice(colon + 1)];
}
