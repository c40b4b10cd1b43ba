import { Kind, parse } from "graphql";

const MAX_REMEMBERED = 500;
const remembered = new Map<string, boolean>();

/**
 * Whether a document does nothing but resolve secrets: one mutation whose every root field
 * is `resolveSecrets`. Only such requests may authenticate their API token from the cache
 * (tenancy/apiTokenCache.ts), because a resolution's usage statement re-checks the token
 * before any value leaves; every other request reads the token from the database.
 * Remembered per document text (platforms send the same one again and again).
 */
export function isResolutionOnly(query: string | undefined): boolean {
  if (!query) return false;
  let answer = remembered.get(query);
  if (answer === undefined) {
    answer = decide(query);
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(query, answer);
  }
  return answer;
}

function decide(query: string): boolean {
  let document;
  try {
    document = parse(query, { maxTokens: 3000 });
  } catch {
    return false;
  }
  const [operation, ...others] = document.definitions;
  return (
    others.length === 0 &&
    operation?.kind === Kind.OPERATION_DEFINITION &&
    operation.operation === "mutation" &&
    operation.selectionSet.selections.every(
      (s) => s.kind === Kind.FIELD && s.name.value === "resolveSecrets",
    )
  );
}
