import type { OrgRole } from "../roles.ts";

/**
 * An invitation to join an organization. The link's hash is deliberately not in the event
 * log (exported to SIEMs): like an API token's, it is credential state (tenancy/invitations.ts).
 */
export type InvitationEvent =
  | {
      type: "InvitationIssued";
      data: {
        invitationId: string;
        organizationId: string;
        email: string;
        role: OrgRole;
        invitedByUserId: string;
        expiresAt: string;
      };
    }
  | {
      type: "InvitationAccepted";
      data: { invitationId: string; userId: string; via: "link" | "sso" };
    }
  | { type: "InvitationRevoked"; data: { invitationId: string; reason: "revoked" | "replaced" } }
  | { type: "InvitationExpired"; data: { invitationId: string } };

export const invitationStream = (invitationId: string) => `invitation-${invitationId}`;
