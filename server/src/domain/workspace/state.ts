import { assertNever } from "../decider.ts";
import type { WorkspaceRole } from "../roles.ts";
import type { WorkspaceEvent } from "./events.ts";

export type WorkspaceState = {
  exists: boolean;
  /** environment name → environment id */
  environments: Readonly<Record<string, string>>;
  members: Readonly<Record<string, WorkspaceRole>>;
};

export const initialWorkspaceState: WorkspaceState = {
  exists: false,
  environments: {},
  members: {},
};

export function evolveWorkspace(state: WorkspaceState, event: WorkspaceEvent): WorkspaceState {
  switch (event.type) {
    case "WorkspaceCreated":
      return { ...state, exists: true };
    case "EnvironmentDeclared":
      return {
        ...state,
        environments: { ...state.environments, [event.data.name]: event.data.environmentId },
      };
    case "EnvironmentDeleted": {
      const { [event.data.name]: _deleted, ...environments } = state.environments;
      return { ...state, environments };
    }
    case "WorkspaceMemberAdded":
      return { ...state, members: { ...state.members, [event.data.userId]: event.data.role } };
    case "WorkspaceMemberRoleChanged":
      return { ...state, members: { ...state.members, [event.data.userId]: event.data.to } };
    case "WorkspaceMemberRemoved": {
      const { [event.data.userId]: _removed, ...members } = state.members;
      return { ...state, members };
    }
    case "AwsExternalIdRotated":
      return state;
    default:
      return assertNever(event);
  }
}
