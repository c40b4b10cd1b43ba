import type { WorkspaceRole } from "../roles.ts";

export type WorkspaceEvent =
  | {
      type: "WorkspaceCreated";
      data: {
        workspaceId: string;
        organizationId: string;
        name: string;
        slug: string;
        awsExternalId: string;
      };
    }
  | { type: "EnvironmentDeclared"; data: { environmentId: string; name: string } }
  | { type: "EnvironmentDeleted"; data: { environmentId: string; name: string } }
  | { type: "WorkspaceMemberAdded"; data: { userId: string; role: WorkspaceRole } }
  | {
      type: "WorkspaceMemberRoleChanged";
      data: { userId: string; from: WorkspaceRole; to: WorkspaceRole };
    }
  | { type: "WorkspaceMemberRemoved"; data: { userId: string } }
  /** The external id is not a secret (customers put it in trust policies), so it is recorded. */
  | { type: "AwsExternalIdRotated"; data: { awsExternalId: string } };

export const workspaceStream = (workspaceId: string) => `workspace-${workspaceId}`;
