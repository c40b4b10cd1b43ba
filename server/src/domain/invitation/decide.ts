import { ConflictError } from "../../errors/ConflictError.ts";
import { NotFoundError } from "../../errors/NotFoundError.ts";
import { InvitationUnusableError } from "../../errors/InvitationUnusableError.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { assertNever, type Decider } from "../decider.ts";
import type { OrgRole } from "../roles.ts";
import type { InvitationEvent } from "./events.ts";
import { evolveInvitation, initialInvitationState, type InvitationState } from "./state.ts";

export type InvitationCommand =
  | {
      type: "IssueInvitation";
      invitationId: string;
      organizationId: string;
      email: string;
      role: OrgRole;
      invitedByUserId: string;
      expiresAt: Date;
      now: Date;
    }
  /** `email` is the accepting user's: an invitation is for one address only. */
  | {
      type: "AcceptInvitation";
      invitationId: string;
      userId: string;
      email: string;
      via: "link" | "sso";
      now: Date;
    }
  | { type: "RevokeInvitation"; invitationId: string; reason: "revoked" | "replaced" }
  /** Records that a pending invitation ran out (the worker's sweep, or an attempt to use it). */
  | { type: "ExpireInvitation"; invitationId: string; now: Date };

export function decideInvitation(
  command: InvitationCommand,
  state: InvitationState,
): InvitationEvent[] {
  if (command.type !== "IssueInvitation" && state.status === "none")
    throw new NotFoundError("Invitation");
  switch (command.type) {
    case "IssueInvitation": {
      if (state.status !== "none") throw new ConflictError("Invitation already exists");
      if (command.expiresAt <= command.now)
        throw ValidationError.fromIssues([{ path: "expiresAt", message: "must be in the future" }]);
      const { invitationId, organizationId, email, role, invitedByUserId } = command;
      return [
        {
          type: "InvitationIssued",
          data: {
            invitationId,
            organizationId,
            email,
            role,
            invitedByUserId,
            expiresAt: command.expiresAt.toISOString(),
          },
        },
      ];
    }
    case "AcceptInvitation":
      assertUsable(state, command.now);
      if (command.email !== state.email)
        throw new ValidationError(
          `This invitation is for ${state.email}; sign in with that address to accept it`,
        );
      return [
        {
          type: "InvitationAccepted",
          data: { invitationId: command.invitationId, userId: command.userId, via: command.via },
        },
      ];
    case "RevokeInvitation":
      // Withdrawing one that can no longer be used changes nothing, and says so.
      if (state.status !== "pending") return [];
      return [
        {
          type: "InvitationRevoked",
          data: { invitationId: command.invitationId, reason: command.reason },
        },
      ];
    case "ExpireInvitation":
      if (state.status !== "pending" || !isPastExpiry(state, command.now)) return [];
      return [{ type: "InvitationExpired", data: { invitationId: command.invitationId } }];
    default:
      return assertNever(command);
  }
}

export const isPastExpiry = (state: Pick<InvitationState, "expiresAt">, now: Date) =>
  new Date(state.expiresAt) <= now;

function assertUsable(state: InvitationState, now: Date): void {
  if (state.status === "accepted") throw new InvitationUnusableError("used");
  if (state.status === "revoked") throw new InvitationUnusableError("revoked");
  if (state.status === "expired" || isPastExpiry(state, now))
    throw new InvitationUnusableError("expired");
}

export const invitationDecider: Decider<InvitationCommand, InvitationEvent, InvitationState> = {
  initialState: initialInvitationState,
  evolve: evolveInvitation,
  decide: decideInvitation,
};
