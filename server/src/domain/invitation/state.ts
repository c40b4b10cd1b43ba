import { assertNever } from "../decider.ts";
import type { OrgRole } from "../roles.ts";
import type { InvitationEvent } from "./events.ts";

export type InvitationStatus = "none" | "pending" | "accepted" | "revoked" | "expired";

export type InvitationState = {
  status: InvitationStatus;
  email: string;
  role: OrgRole;
  expiresAt: string;
};

export const initialInvitationState: InvitationState = {
  status: "none",
  email: "",
  role: "MEMBER",
  expiresAt: "",
};

export function evolveInvitation(state: InvitationState, event: InvitationEvent): InvitationState {
  switch (event.type) {
    case "InvitationIssued":
      return {
        status: "pending",
        email: event.data.email,
        role: event.data.role,
        expiresAt: event.data.expiresAt,
      };
    case "InvitationAccepted":
      return { ...state, status: "accepted" };
    case "InvitationRevoked":
      return { ...state, status: "revoked" };
    case "InvitationExpired":
      return { ...state, status: "expired" };
    default:
      return assertNever(event);
  }
}
