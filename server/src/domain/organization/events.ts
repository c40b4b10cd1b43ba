import type { OrgRole } from "../roles.ts";

export type OrganizationEvent =
  | {
      type: "OrganizationCreated";
      data: { organizationId: string; name: string; slug: string; ownerUserId: string };
    }
  | { type: "OrgMemberAdded"; data: { userId: string; role: OrgRole } }
  | { type: "OrgMemberRoleChanged"; data: { userId: string; from: OrgRole; to: OrgRole } }
  | { type: "OrgMemberRemoved"; data: { userId: string } }
  /** An admin signed the member out everywhere (their console sessions are revoked). */
  | { type: "OrgMemberSessionsEnded"; data: { userId: string } }
  /** Members must (or need no longer) sign in with a second factor to act in it. */
  | { type: "OrganizationMfaRequirementChanged"; data: { required: boolean } }
  | { type: "OrganizationDeleted"; data: { organizationId: string; slug: string } };

export const organizationStream = (organizationId: string) => `organization-${organizationId}`;
