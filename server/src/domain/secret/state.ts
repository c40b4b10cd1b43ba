import { assertNever } from "../decider.ts";
import type { SecretEvent, SecretScope, SecretType } from "./events.ts";

export type SecretState =
  | { status: "none" }
  | {
      status: "active" | "deleted";
      scope: SecretScope;
      ownerUserId: string | null;
      workspaceId: string | null;
      type: SecretType;
      templateId: string | null;
      /** Versions are dense: every update, rotation or restore adds current + 1. */
      currentVersion: number;
      keyNames: string[];
      /** version → its key names; pruned versions are absent. */
      versions: Readonly<Record<number, string[]>>;
    };

export const initialSecretState: SecretState = { status: "none" };

export function evolveSecret(state: SecretState, event: SecretEvent): SecretState {
  if (event.type === "SecretCreated") {
    const d = event.data;
    return {
      status: "active",
      scope: d.scope,
      ownerUserId: d.ownerUserId,
      workspaceId: d.workspaceId,
      type: d.secretType,
      templateId: d.templateId,
      currentVersion: 1,
      keyNames: d.keyNames,
      versions: { 1: d.keyNames },
    };
  }
  if (state.status === "none") return state;
  switch (event.type) {
    case "SecretUpdated":
    case "SecretRotated":
    case "SecretVersionRestored":
      return {
        ...state,
        currentVersion: event.data.version,
        keyNames: event.data.keyNames,
        versions: { ...state.versions, [event.data.version]: event.data.keyNames },
      };
    case "SecretVersionsPruned": {
      const versions = { ...state.versions };
      for (const v of event.data.versions) delete versions[v];
      return { ...state, versions };
    }
    case "SecretDeleted":
      return { ...state, status: "deleted" };
    case "SecretShared":
      return { ...state, scope: "WORKSPACE", ownerUserId: null };
    default:
      return assertNever(event);
  }
}
