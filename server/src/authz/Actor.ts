import type { Permission } from "../domain/roles.ts";

/** Who is calling, as established by authentication: the only source of the tenant. */
export type Actor =
  /**
   * `mfa`: the session was opened with a second factor (organizations may demand it).
   * `ssoOrganizationId`: the session was opened by that organization's single sign-on, and
   * acts in it only (another organization's identity provider vouches for nothing else).
   */
  | {
      kind: "user";
      userId: string;
      sessionId: string;
      mfa: boolean;
      ssoOrganizationId: string | null;
    }
  | {
      kind: "token";
      tokenId: string;
      organizationId: string;
      workspaceId: string | null;
      permissions: readonly Permission[];
    };
