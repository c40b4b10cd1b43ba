import { ConflictError } from "../../errors/ConflictError.ts";
import { NotFoundError } from "../../errors/NotFoundError.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { assertNever, type Decider } from "../decider.ts";
import type { Permission } from "../roles.ts";
import type { ApiTokenEvent } from "./events.ts";
import { evolveApiToken, initialApiTokenState, type ApiTokenState } from "./state.ts";

export type ApiTokenCommand =
  | {
      type: "IssueApiToken";
      tokenId: string;
      organizationId: string;
      workspaceId: string | null;
      name: string;
      permissions: Permission[];
      prefix: string;
      expiresAt: Date | null;
      now: Date;
    }
  | { type: "RevokeApiToken"; tokenId: string };

export function decideApiToken(command: ApiTokenCommand, state: ApiTokenState): ApiTokenEvent[] {
  switch (command.type) {
    case "IssueApiToken": {
      if (state.status !== "none") throw new ConflictError("API token already exists");
      if (command.permissions.length === 0)
        throw ValidationError.fromIssues([
          { path: "permissions", message: "name at least one permission" },
        ]);
      if (command.expiresAt && command.expiresAt <= command.now) {
        throw ValidationError.fromIssues([{ path: "expiresAt", message: "must be in the future" }]);
      }
      const { tokenId, organizationId, workspaceId, name, prefix } = command;
      const permissions = [...new Set(command.permissions)].sort();
      const expiresAt = command.expiresAt?.toISOString() ?? null;
      return [
        {
          type: "ApiTokenIssued",
          data: { tokenId, organizationId, workspaceId, name, permissions, prefix, expiresAt },
        },
      ];
    }
    case "RevokeApiToken":
      if (state.status === "none") throw new NotFoundError("API token");
      if (state.status === "revoked") return [];
      return [{ type: "ApiTokenRevoked", data: { tokenId: command.tokenId } }];
    default:
      return assertNever(command);
  }
}

export const apiTokenDecider: Decider<ApiTokenCommand, ApiTokenEvent, ApiTokenState> = {
  initialState: initialApiTokenState,
  evolve: evolveApiToken,
  decide: decideApiToken,
};
