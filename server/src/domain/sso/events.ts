import type { OrgRole } from "../roles.ts";

/**
 * An organization's single sign-on, on its stream `sso-<organization>` (chained in its log).
 * The connection itself is operational state written beside these events; its client
 * secret is never in them.
 */
export type SsoEvent =
  | {
      type: "SsoConfigured";
      data: {
        issuer: string;
        clientId: string;
        emailDomains: string[];
        defaultRole: OrgRole;
        required: boolean;
      };
    }
  | { type: "SsoRemoved"; data: Record<string, never> }
  /** A callback refused: why, and the address the identity provider asserted, if any. */
  | { type: "SsoSignInRefused"; data: { reason: string; email: string | null } };

export const ssoStream = (organizationId: string) => `sso-${organizationId}`;
