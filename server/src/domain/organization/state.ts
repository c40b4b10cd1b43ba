import { assertNever } from "../decider.ts";
import type { OrgRole } from "../roles.ts";
import type { OrganizationEvent } from "./events.ts";

export type OrganizationState = {
  exists: boolean;
  members: Readonly<Record<string, OrgRole>>;
  requireMfa: boolean;
};

export const initialOrganizationState: OrganizationState = {
  exists: false,
  members: {},
  requireMfa: false,
};

export function evolveOrganization(
  state: OrganizationState,
  event: OrganizationEvent,
): OrganizationState {
  switch (event.type) {
    case "OrganizationCreated":
      return { exists: true, members: { [event.data.ownerUserId]: "OWNER" }, requireMfa: false };
    case "OrgMemberAdded":
      return { ...state, members: { ...state.members, [event.data.userId]: event.data.role } };
    case "OrgMemberRoleChanged":
      return { ...state, members: { ...state.members, [event.data.userId]: event.data.to } };
    case "OrgMemberRemoved": {
      const { [event.data.userId]: _removed, ...members } = state.members;
      return { ...state, members };
    }
    case "OrgMemberSessionsEnded":
      return state;
    case "OrganizationMfaRequirementChanged":
      return { ...state, requireMfa: event.data.required };
    case "OrganizationDeleted":
      // A deleted organization no longer exists for any command.
      return { ...state, exists: false };
    default:
      return assertNever(event);
  }
}
