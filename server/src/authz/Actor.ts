import type { Permission } from "../domain/roles.ts";

/** Who is calling, as established by authentication: the only source of the tenant. */
export type Actor =
  | { kind: "user"; userId: string; sessionId: string }
  | {
      kind: "token";
      tokenId: string;
      organizationId: string;
      workspaceId: string | null;
      permissions: readonly Permission[];
    };
