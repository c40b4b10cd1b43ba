import { ConflictError } from "../../errors/ConflictError.ts";
import { ForbiddenError } from "../../errors/ForbiddenError.ts";
import { NotFoundError } from "../../errors/NotFoundError.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { assertNever, type Decider } from "../decider.ts";
import type { SecretEvent, SecretScope, SecretType } from "./events.ts";
import { evolveSecret, initialSecretState, type SecretState } from "./state.ts";

/**
 * Commands carry key names and the version numbers they were prepared for; the values
 * were validated and encrypted by the service before deciding, and never come here.
 * `expectedVersion` is the secret version the caller based its change on (optional for
 * callers that accept "latest wins"; the service always passes the version it read).
 */
export type SecretCommand =
  | {
      type: "CreateSecret";
      secretId: string;
      organizationId: string;
      workspaceId: string | null;
      ownerUserId: string | null;
      scope: SecretScope;
      environment: string;
      name: string;
      secretType: SecretType;
      templateId: string | null;
      description: string | null;
      keyNames: string[];
    }
  | {
      type: "UpdateSecret";
      secretId: string;
      expectedVersion: number;
      keepVersions: number;
      keyNames: string[];
      setKeys: string[];
      removedKeys: string[];
    }
  | {
      type: "RotateSecret";
      secretId: string;
      expectedVersion: number;
      keepVersions: number;
      keyNames: string[];
    }
  | {
      type: "RestoreSecretVersion";
      secretId: string;
      expectedVersion: number;
      keepVersions: number;
      fromVersion: number;
    }
  | { type: "DeleteSecret"; secretId: string; name: string; environment: string }
  | { type: "ShareSecret"; secretId: string; byUserId: string };

type Live = Exclude<SecretState, { status: "none" }>;

export function decideSecret(command: SecretCommand, state: SecretState): SecretEvent[] {
  if (command.type === "CreateSecret") {
    if (state.status !== "none") throw new ConflictError("Secret already exists");
    const { type: _type, secretType, ...data } = command;
    return [{ type: "SecretCreated", data: { ...data, secretType, version: 1 } }];
  }
  if (state.status !== "active") throw new NotFoundError("Secret");
  const { secretId } = command;
  const next = state.currentVersion + 1;
  switch (command.type) {
    case "UpdateSecret": {
      assertVersion(state, command.expectedVersion);
      if (command.setKeys.length === 0 && command.removedKeys.length === 0) {
        throw new ValidationError("Nothing to update: set or remove at least one key");
      }
      return withPruning(state, command, {
        type: "SecretUpdated",
        data: {
          secretId,
          version: next,
          keyNames: command.keyNames,
          setKeys: command.setKeys,
          removedKeys: command.removedKeys,
        },
      });
    }
    case "RotateSecret":
      assertVersion(state, command.expectedVersion);
      return withPruning(state, command, {
        type: "SecretRotated",
        data: { secretId, version: next, keyNames: command.keyNames },
      });
    case "RestoreSecretVersion": {
      assertVersion(state, command.expectedVersion);
      const keyNames = state.versions[command.fromVersion];
      if (!keyNames) throw new NotFoundError(`Version ${command.fromVersion}`);
      if (command.fromVersion === state.currentVersion)
        throw new ValidationError(`Version ${command.fromVersion} is already the current version`);
      return withPruning(state, command, {
        type: "SecretVersionRestored",
        data: { secretId, version: next, restoredFrom: command.fromVersion, keyNames },
      });
    }
    case "DeleteSecret":
      return [
        {
          type: "SecretDeleted",
          data: { secretId, name: command.name, environment: command.environment },
        },
      ];
    case "ShareSecret":
      if (state.scope !== "PERSONAL")
        throw new ValidationError("Only a personal secret can be shared with the workspace");
      if (state.ownerUserId !== command.byUserId)
        throw new ForbiddenError("Only the owner can share a personal secret");
      return [
        {
          type: "SecretShared",
          data: { secretId, fromUserId: command.byUserId, workspaceId: state.workspaceId ?? "" },
        },
      ];
    default:
      return assertNever(command);
  }
}

/** The secret moved on since the caller read it. Services may retry with a fresh read. */
export class SecretVersionConflictError extends ConflictError {
  override name = "SecretVersionConflictError";
}

function assertVersion(state: Live, expected: number): void {
  if (expected !== state.currentVersion) {
    throw new SecretVersionConflictError(
      `The secret changed meanwhile: it is at version ${state.currentVersion}, not ${expected}`,
    );
  }
}

/**
 * A new version, and — when more than `keepVersions` versions would hold a ciphertext —
 * the oldest ones pruned (their rows stay as history; the current one is never pruned).
 */
function withPruning(
  state: Live,
  command: { secretId: string; keepVersions: number },
  event: SecretEvent & { data: { version: number } },
): SecretEvent[] {
  const held = [...Object.keys(state.versions).map(Number), event.data.version].sort(
    (a, b) => b - a,
  );
  const pruned = held.slice(Math.max(1, command.keepVersions)).sort((a, b) => a - b);
  return pruned.length
    ? [
        event,
        { type: "SecretVersionsPruned", data: { secretId: command.secretId, versions: pruned } },
      ]
    : [event];
}

export const secretDecider: Decider<SecretCommand, SecretEvent, SecretState> = {
  initialState: initialSecretState,
  evolve: evolveSecret,
  decide: decideSecret,
};
