import type { Permission } from "../domain/roles.ts";

/** Who is calling, as established by authentication: the only source of the tenant. */
export type Actor =
  /** `mfa`: the session was opened with a second factor (organizations may demand it). */
  | { kind: "user"; userId: string; sessionId: string; mfa: boolean }
  | {
      kind: "token";
      tokenId: string;
      organizationId: string;
      workspaceId: string | null;
      permissions: readonly Permission[];
    };
