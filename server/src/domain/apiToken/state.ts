import { assertNever } from "../decider.ts";
import type { ApiTokenEvent } from "./events.ts";

export type ApiTokenState = { status: "none" | "active" | "revoked" };

export const initialApiTokenState: ApiTokenState = { status: "none" };

export function evolveApiToken(_state: ApiTokenState, event: ApiTokenEvent): ApiTokenState {
  switch (event.type) {
    case "ApiTokenIssued":
      return { status: "active" };
    case "ApiTokenRevoked":
      return { status: "revoked" };
    default:
      return assertNever(event);
  }
}
