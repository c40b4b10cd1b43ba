import type { Tx } from "../db/database.ts";
import { assertNever } from "../domain/decider.ts";
import type { SecretEvent, SecretScope } from "../domain/secret/events.ts";
import { ConflictError } from "../errors/ConflictError.ts";
import { conflictOnUnique } from "../errors/prismaErrors.ts";

export function scopeKey(
  scope: SecretScope,
  workspaceId: string | null,
  ownerUserId: string | null,
): string {
  if (scope === "ORGANIZATION") return "organization";
  if (scope === "WORKSPACE") return `workspace:${workspaceId}`;
  return `personal:${workspaceId}:${ownerUserId}`;
}

/** The ciphertext of the version an event creates: state the event itself never carries. */
export type NewVersionCiphertext = { ciphertext: string; keyVersion: number; createdBy: string };

/**
 * Projects secret events into `secrets` and `secret_versions`, inside the command's
 * transaction. Name clashes surface as the unique index's violation → ConflictError.
 */
export function projectSecret(
  secretId: string,
  organizationId: string,
  newVersion?: NewVersionCiphertext,
) {
  return async (tx: Tx, events: SecretEvent[], now: Date): Promise<void> => {
    const insertVersion = async (
      version: number,
      keyNames: string[],
      origin: string,
      restoredFrom: number | null,
    ) => {
      if (!newVersion) throw new Error("a new secret version needs its ciphertext");
      // Under the organization's chain lock, so a re-wrap cannot raise the minimum between
      // this check and the commit: a ciphertext made before a key rotation is re-made.
      const { transitMinVersion } = await tx.organization.findUniqueOrThrow({
        where: { id: organizationId },
        select: { transitMinVersion: true },
      });
      if (newVersion.keyVersion < transitMinVersion) {
        throw new StaleCiphertextError(
          "The organization's transit key was rotated meanwhile; try again",
        );
      }
      await tx.secretVersion.create({
        data: {
          secretId,
          version,
          organizationId,
          keyNames,
          origin,
          restoredFrom,
          ciphertext: newVersion.ciphertext,
          keyVersion: newVersion.keyVersion,
          createdBy: newVersion.createdBy,
          createdAt: now,
        },
      });
      await tx.secret.update({
        where: { id: secretId },
        data: { currentVersion: version, keyNames, updatedAt: now },
      });
    };
    for (const event of events) {
      switch (event.type) {
        case "SecretCreated": {
          const d = event.data;
          await conflictOnUnique(
            () =>
              tx.secret.create({
                data: {
                  id: secretId,
                  organizationId,
                  workspaceId: d.workspaceId,
                  ownerUserId: d.ownerUserId,
                  scope: d.scope,
                  scopeKey: scopeKey(d.scope, d.workspaceId, d.ownerUserId),
                  environment: d.environment,
                  name: d.name,
                  type: d.secretType,
                  templateId: d.templateId,
                  description: d.description,
                  keyNames: d.keyNames,
                  currentVersion: 1,
                  streamVersion: 0,
                  createdBy: newVersion?.createdBy ?? "unknown",
                  createdAt: now,
                  updatedAt: now,
                },
              }),
            `A ${d.scope.toLowerCase()} secret named "${d.name}" already exists in the "${d.environment}" environment`,
          );
          await insertVersion(1, d.keyNames, "CREATED", null);
          break;
        }
        case "SecretUpdated":
          await insertVersion(event.data.version, event.data.keyNames, "UPDATED", null);
          break;
        case "SecretRotated":
          await insertVersion(event.data.version, event.data.keyNames, "ROTATED", null);
          break;
        case "SecretVersionRestored":
          await insertVersion(
            event.data.version,
            event.data.keyNames,
            "RESTORED",
            event.data.restoredFrom,
          );
          break;
        case "SecretVersionsPruned":
          await tx.secretVersion.updateMany({
            where: { secretId, version: { in: event.data.versions } },
            data: { ciphertext: null, keyVersion: null, prunedAt: now },
          });
          break;
        case "SecretDeleted":
          await tx.secret.update({
            where: { id: secretId },
            data: { deletedAt: now, updatedAt: now },
          });
          break;
        case "SecretShared": {
          const row = await tx.secret.findUniqueOrThrow({
            where: { id: secretId },
            select: { name: true, environment: true },
          });
          await conflictOnUnique(
            () =>
              tx.secret.update({
                where: { id: secretId },
                data: {
                  scope: "WORKSPACE",
                  ownerUserId: null,
                  scopeKey: scopeKey("WORKSPACE", event.data.workspaceId, null),
                  updatedAt: now,
                },
              }),
            `A workspace secret named "${row.name}" already exists in the "${row.environment}" environment`,
          );
          break;
        }
        default:
          assertNever(event);
      }
    }
    await tx.secret.update({
      where: { id: secretId },
      data: { streamVersion: { increment: events.length } },
    });
  };
}

/** A ciphertext made with a key version the organization no longer accepts; retried by the service. */
export class StaleCiphertextError extends ConflictError {
  override name = "StaleCiphertextError";
}
