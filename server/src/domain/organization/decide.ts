import { ConflictError } from "../../errors/ConflictError.ts";
import { NotFoundError } from "../../errors/NotFoundError.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { assertNever, type Decider } from "../decider.ts";
import type { OrgRole } from "../roles.ts";
import type { OrganizationEvent } from "./events.ts";
import { evolveOrganization, initialOrganizationState, type OrganizationState } from "./state.ts";

export type OrganizationCommand =
  | {
      type: "CreateOrganization";
      organizationId: string;
      name: string;
      slug: string;
      ownerUserId: string;
    }
  | { type: "AddOrgMember"; userId: string; role: OrgRole }
  | { type: "ChangeOrgMemberRole"; userId: string; role: OrgRole }
  | { type: "RemoveOrgMember"; userId: string }
  | { type: "EndOrgMemberSessions"; userId: string }
  | { type: "SetMfaRequirement"; required: boolean }
  /** `confirmSlug` must repeat the slug: deletion destroys every secret for good. */
  | { type: "DeleteOrganization"; organizationId: string; slug: string; confirmSlug: string };

export function decideOrganization(
  command: OrganizationCommand,
  state: OrganizationState,
): OrganizationEvent[] {
  if (command.type !== "CreateOrganization" && !state.exists)
    throw new NotFoundError("Organization");
  switch (command.type) {
    case "CreateOrganization": {
      if (state.exists) throw new ConflictError("Organization already exists");
      const { organizationId, name, slug, ownerUserId } = command;
      return [{ type: "OrganizationCreated", data: { organizationId, name, slug, ownerUserId } }];
    }
    case "AddOrgMember":
      if (state.members[command.userId])
        throw new ConflictError("User is already a member of this organization");
      return [{ type: "OrgMemberAdded", data: { userId: command.userId, role: command.role } }];
    case "ChangeOrgMemberRole": {
      const from = requireMember(state, command.userId);
      if (from === command.role) return [];
      if (from === "OWNER") assertAnotherOwner(state, command.userId, "demote");
      return [
        { type: "OrgMemberRoleChanged", data: { userId: command.userId, from, to: command.role } },
      ];
    }
    case "RemoveOrgMember":
      if (requireMember(state, command.userId) === "OWNER")
        assertAnotherOwner(state, command.userId, "remove");
      return [{ type: "OrgMemberRemoved", data: { userId: command.userId } }];
    case "EndOrgMemberSessions":
      requireMember(state, command.userId);
      return [{ type: "OrgMemberSessionsEnded", data: { userId: command.userId } }];
    case "SetMfaRequirement":
      // Idempotent: setting what is already set records nothing.
      if (state.requireMfa === command.required) return [];
      return [{ type: "OrganizationMfaRequirementChanged", data: { required: command.required } }];
    case "DeleteOrganization":
      if (command.confirmSlug !== command.slug) {
        throw ValidationError.fromIssues([
          {
            path: "confirmSlug",
            message: `type the organization's slug (${command.slug}) to confirm`,
          },
        ]);
      }
      return [
        {
          type: "OrganizationDeleted",
          data: { organizationId: command.organizationId, slug: command.slug },
        },
      ];
    default:
      return assertNever(command);
  }
}

function requireMember(state: OrganizationState, userId: string): OrgRole {
  const role = state.members[userId];
  if (!role) throw new NotFoundError("Member");
  return role;
}

function assertAnotherOwner(state: OrganizationState, userId: string, verb: string): void {
  const owners = Object.entries(state.members).filter(
    ([id, role]) => role === "OWNER" && id !== userId,
  );
  if (owners.length === 0) {
    throw new ValidationError(
      `Cannot ${verb} the last OWNER of the organization; make someone else OWNER first`,
    );
  }
}

export const organizationDecider: Decider<
  OrganizationCommand,
  OrganizationEvent,
  OrganizationState
> = {
  initialState: initialOrganizationState,
  evolve: evolveOrganization,
  decide: decideOrganization,
};
