import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { requireOrgAccess } from "../authz/access.ts";
import type { Tx } from "../db/database.ts";
import type { TransitKeyEvent } from "../domain/transitKey/events.ts";
import { recordTransitKeyEvent } from "./recordTransitKeyEvent.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { oneTransaction } from "../eventstore/executeCommand.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import type { Logger } from "../logger.ts";
import { organizationKeyName, type Transit } from "../transit/Transit.ts";
import { isUniqueViolation } from "../errors/prismaErrors.ts";
import type { RewrapRunner } from "./rewrapRunner.ts";

/**
 * Key rotation and re-wrap. `startRewrap` opens (or reopens) the organization's job for
 * the newest key version; the job itself runs in secrets/rewrapRunner.ts — here at once
 * when this process runs jobs, else on a worker replica's next sweep.
 */
export function transitKeyService(
  deps: CoreDeps & {
    transit: Transit;
    logger: Logger;
    runner: RewrapRunner;
    /** False in an `api` replica (COFFER_ROLE): a worker's sweep picks the job up. */
    runsJobs: boolean;
  },
) {
  const record = (
    tx: Tx,
    organizationId: string,
    event: TransitKeyEvent,
    metadata: EventMetadata,
  ) => recordTransitKeyEvent(tx, deps.clock(), organizationId, event, metadata);

  async function requireOwner(caller: Caller, organizationId: string, what: string) {
    const access = await requireOrgAccess(deps.db, caller.actor, organizationId);
    if (access.orgRole !== "OWNER") throw new ForbiddenError(`${what} is for organization owners`);
  }

  async function remaining(organizationId: string, target: number): Promise<number> {
    return deps.db.secretVersion.count({
      where: { organizationId, ciphertext: { not: null }, keyVersion: { lt: target } },
    });
  }

  /** The open job for `target`, reopened when it had failed; a new one (and its event) if none. */
  async function openJob(caller: Caller, organizationId: string, target: number) {
    const keyName = organizationKeyName(organizationId);
    const now = deps.clock();
    const existing = await deps.db.rewrapJob.findFirst({
      where: { organizationId, targetKeyVersion: target, status: { not: "COMPLETED" } },
    });
    if (existing) {
      if (existing.status !== "FAILED") return existing;
      // Reopened where it stopped: FINALIZING when the organization's minimum is already up.
      const organization = await deps.db.organization.findUniqueOrThrow({
        where: { id: organizationId },
      });
      // A concurrent start may have reopened it first: the same job either way.
      await deps.db.rewrapJob.updateMany({
        where: { id: existing.id, status: "FAILED" },
        data: {
          status: organization.transitMinVersion >= target ? "FINALIZING" : "RUNNING",
          lastError: null,
          updatedAt: now,
        },
      });
      return deps.db.rewrapJob.findUniqueOrThrow({ where: { id: existing.id } });
    }
    const total = await remaining(organizationId, target);
    try {
      return await deps.db.$transaction(async (tx) => {
        const created = await tx.rewrapJob.create({
          data: {
            id: deps.newId(),
            organizationId,
            targetKeyVersion: target,
            status: "RUNNING",
            total,
            rewrapped: 0,
            startedAt: now,
            updatedAt: now,
          },
        });
        await record(
          tx,
          organizationId,
          {
            type: "SecretsRewrapStarted",
            data: { jobId: created.id, keyName, targetKeyVersion: target, total },
          },
          caller.metadata,
        );
        return created;
      });
    } catch (error) {
      // Two starts at once: the unique index on open jobs let one create it; share that one.
      if (!isUniqueViolation(error)) throw error;
      return deps.db.rewrapJob.findFirstOrThrow({
        where: { organizationId, targetKeyVersion: target, status: { not: "COMPLETED" } },
      });
    }
  }

  return {
    /** Adds a key version; new encryptions use it at once. Organization OWNER only. */
    async rotateKey(caller: Caller, organizationId: string) {
      await requireOwner(caller, organizationId, "Rotating the transit key");
      const keyName = organizationKeyName(organizationId);
      // The engine rotates outside the transaction (a Vault rotation never could be inside),
      // and before the chain lock is taken: waiting for it while holding the lock would stall
      // every writer of the organization, and with the embedded keyring deadlock on the
      // connection pool that those writers hold while they queue on the lock.
      const info = await deps.transit.rotateKey(keyName);
      await oneTransaction(deps.db, (tx) =>
        record(
          tx,
          organizationId,
          { type: "TransitKeyRotated", data: { keyName, latestVersion: info.latestVersion } },
          caller.metadata,
        ),
      );
      return info;
    },

    /**
     * Starts (or resumes) moving every ciphertext to the newest key version and returns
     * the job at once; `done` settles when this process is done with it (at once when a
     * worker replica, or another live runner, has it). Organization OWNER only.
     */
    async startRewrap(caller: Caller, organizationId: string) {
      await requireOwner(caller, organizationId, "Re-wrapping secrets");
      const keyName = organizationKeyName(organizationId);
      const info = await deps.transit.readKey(keyName);
      if (!info) throw new ForbiddenError("This organization has no transit key");
      const job = await openJob(caller, organizationId, info.latestVersion);
      const done = deps.runsJobs ? deps.runner.run(job.id, caller.metadata) : Promise.resolve();
      done.catch(() => undefined); // recorded on the job; the caller may await `done` to see it
      return { job, done };
    },

    /** Key versions and how many stored ciphertexts sit on each. */
    async status(organizationId: string) {
      const keyName = organizationKeyName(organizationId);
      const [info, byVersion, latestJob] = await Promise.all([
        deps.transit.readKey(keyName),
        deps.db.secretVersion.groupBy({
          by: ["keyVersion"],
          where: { organizationId, ciphertext: { not: null } },
          _count: { _all: true },
          orderBy: { keyVersion: "asc" },
        }),
        deps.db.rewrapJob.findFirst({ where: { organizationId }, orderBy: { startedAt: "desc" } }),
      ]);
      return {
        keyName,
        latestVersion: info?.latestVersion ?? null,
        minDecryptionVersion: info?.minDecryptionVersion ?? null,
        ciphertextsByVersion: byVersion.map((g) => ({
          keyVersion: g.keyVersion ?? 0,
          count: g._count._all,
        })),
        latestJob,
      };
    },

    /**
     * Crypto-shredding: after the organization's deletion is recorded, its transit key is
     * destroyed, so none of its ciphertexts can ever be decrypted again.
     */
    async destroyKey(organizationId: string, metadata: EventMetadata) {
      const keyName = organizationKeyName(organizationId);
      await deps.transit.deleteKey(keyName);
      await deps.db.$transaction((tx) =>
        record(tx, organizationId, { type: "TransitKeyDestroyed", data: { keyName } }, metadata),
      );
    },
  };
}

export type TransitKeyService = ReturnType<typeof transitKeyService>;
