import type { Candidate } from "./lookupSecrets.ts";

/**
 * Credentials minted at resolution time instead of read from storage: AWS role
 * assumption today (aws/awsDynamicCredentials.ts), OAuth access tokens later.
 */
export type DynamicCredentials = {
  /** Whether `key` of this secret is produced at resolution time even though it is not stored. */
  provides(secret: Pick<Candidate, "name" | "keyNames">, key: string): boolean;
  /** New values replacing the stored ones, or null when this secret is static. */
  mint(
    secret: Pick<Candidate, "name" | "keyNames">,
    stored: Record<string, string>,
    keys: string[],
    context: { workspaceId: string; runId: string | null },
  ): Promise<{ kind: string; values: Record<string, string> } | null>;
};

export const noDynamicCredentials: DynamicCredentials = {
  provides: () => false,
  mint: async () => null,
};
