import { ConflictError } from "../../errors/ConflictError.ts";
import { NotFoundError } from "../../errors/NotFoundError.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { assertNever, type Decider } from "../decider.ts";
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_NAME } from "../names.ts";
import type { WorkspaceRole } from "../roles.ts";
import type { WorkspaceEvent } from "./events.ts";
import { evolveWorkspace, initialWorkspaceState, type WorkspaceState } from "./state.ts";

export type WorkspaceCommand =
  | {
      type: "CreateWorkspace";
      workspaceId: string;
      organizationId: string;
      name: string;
      slug: string;
      awsExternalId: string;
      defaultEnvironmentId: string;
    }
  | { type: "DeclareEnvironment"; environmentId: string; name: string }
  | { type: "DeleteEnvironment"; name: string }
  | { type: "AddWorkspaceMember"; userId: string; role: WorkspaceRole }
  | { type: "ChangeWorkspaceMemberRole"; userId: string; role: WorkspaceRole }
  | { type: "RemoveWorkspaceMember"; userId: string }
  | { type: "RotateAwsExternalId"; awsExternalId: string };

export function decideWorkspace(
  command: WorkspaceCommand,
  state: WorkspaceState,
): WorkspaceEvent[] {
  if (command.type !== "CreateWorkspace" && !state.exists) throw new NotFoundError("Workspace");
  switch (command.type) {
    case "CreateWorkspace": {
      if (state.exists) throw new ConflictError("Workspace already exists");
      const { workspaceId, organizationId, name, slug, awsExternalId } = command;
      return [
        {
          type: "WorkspaceCreated",
          data: { workspaceId, organizationId, name, slug, awsExternalId },
        },
        {
          type: "EnvironmentDeclared",
          data: { environmentId: command.defaultEnvironmentId, name: DEFAULT_ENVIRONMENT },
        },
      ];
    }
    case "DeclareEnvironment":
      if (!ENVIRONMENT_NAME.test(command.name)) {
        throw ValidationError.fromIssues([
          {
            path: "name",
            message:
              "must start with a letter or digit and contain only letters, digits, '_', '.', '-' (at most 64)",
          },
        ]);
      }
      if (state.environments[command.name])
        throw new ConflictError(`Environment "${command.name}" already exists`);
      return [
        {
          type: "EnvironmentDeclared",
          data: { environmentId: command.environmentId, name: command.name },
        },
      ];
    case "DeleteEnvironment": {
      if (command.name === DEFAULT_ENVIRONMENT)
        throw new ValidationError(`The "${DEFAULT_ENVIRONMENT}" environment cannot be deleted`);
      const environmentId = state.environments[command.name];
      if (!environmentId) throw new NotFoundError("Environment");
      return [{ type: "EnvironmentDeleted", data: { environmentId, name: command.name } }];
    }
    case "AddWorkspaceMember":
      if (state.members[command.userId])
        throw new ConflictError("User is already a member of this workspace");
      return [
        { type: "WorkspaceMemberAdded", data: { userId: command.userId, role: command.role } },
      ];
    case "ChangeWorkspaceMemberRole": {
      const from = state.members[command.userId];
      if (!from) throw new NotFoundError("Member");
      if (from === command.role) return [];
      return [
        {
          type: "WorkspaceMemberRoleChanged",
          data: { userId: command.userId, from, to: command.role },
        },
      ];
    }
    case "RemoveWorkspaceMember":
      if (!state.members[command.userId]) throw new NotFoundError("Member");
      return [{ type: "WorkspaceMemberRemoved", data: { userId: command.userId } }];
    case "RotateAwsExternalId":
      return [{ type: "AwsExternalIdRotated", data: { awsExternalId: command.awsExternalId } }];
    default:
      return assertNever(command);
  }
}

export const workspaceDecider: Decider<WorkspaceCommand, WorkspaceEvent, WorkspaceState> = {
  initialState: initialWorkspaceState,
  evolve: evolveWorkspace,
  decide: decideWorkspace,
};
