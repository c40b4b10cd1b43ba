import type { Permission } from "../roles.ts";

/** The token's hash is deliberately not in the event log: see tenancy/apiTokens.ts. */
export type ApiTokenEvent =
  | {
      type: "ApiTokenIssued";
      data: {
        tokenId: string;
        organizationId: string;
        workspaceId: string | null;
        name: string;
        permissions: Permission[];
        prefix: string;
        expiresAt: string | null;
      };
    }
  | { type: "ApiTokenRevoked"; data: { tokenId: string } };

export const apiTokenStream = (tokenId: string) => `api-token-${tokenId}`;
