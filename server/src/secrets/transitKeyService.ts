import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { countStaleSealed, rewrapSealed } from "./sealedCiphertexts.ts";
import { requireOrgAccess } from "../authz/access.ts";
import type { Tx } from "../db/database.ts";
import { transitKeyStream, type TransitKeyEvent } from "../domain/transitKey/events.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { appendToStream, lockChain } from "../eventstore/append.ts";
import { oneTransaction } from "../eventstore/executeCommand.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import type { Logger } from "../logger.ts";
import { ciphertextKeyVersion, organizationKeyName, type Transit } from "../transit/Transit.ts";

/**
 * Key rotation and re-wrap. Re-wrapping moves every stored ciphertext of an organization
 * to the newest key version through the transit engine's `rewrap` (Coffer never sees the
 * plaintext), in batches, each row updated only if it still holds the ciphertext that was
 * re-wrapped. It is idempotent and resumable: a job that died half-way is picked up by the
 * next `startRewrap`, which continues from whatever is still on an old version. Only when
 * nothing old is left is the organization's minimum key version raised, under its chain
 * lock so that no secret write can slip an old ciphertext in; the transit key's minimum
 * decryption version follows once that has committed.
 */
export function transitKeyService(
  deps: CoreDeps & { transit: Transit; logger: Logger; rewrapBatchSize?: number },
) {
  const batchSize = deps.rewrapBatchSize ?? 500;
  const running = new Map<string, Promise<void>>();

  const record = (
    tx: Tx,
    organizationId: string,
    event: TransitKeyEvent,
    metadata: EventMetadata,
  ) =>
    appendToStream(tx, {
      streamId: transitKeyStream(organizationId),
      organizationId,
      expectedVersion: "any",
      events: [event],
      metadata,
      now: deps.clock(),
    });

  async function requireOwner(caller: Caller, organizationId: string, what: string) {
    const access = await requireOrgAccess(deps.db, caller.actor, organizationId);
    if (access.orgRole !== "OWNER") throw new ForbiddenError(`${what} is for organization owners`);
  }

  async function remaining(organizationId: string, target: number): Promise<number> {
    return deps.db.secretVersion.count({
      where: { organizationId, ciphertext: { not: null }, keyVersion: { lt: target } },
    });
  }

  async function run(
    jobId: string,
    organizationId: string,
    target: number,
    metadata: EventMetadata,
  ): Promise<void> {
    const keyName = organizationKeyName(organizationId);
    try {
      // Keyset pages over (secret_id, version); the next page is read while this one is
      // written back, so the database and the transit engine work at the same time.
      type Row = { secret_id: string; version: number; ciphertext: string };
      const page = (after: Row | null) =>
        deps.db.$queryRaw<Row[]>`
          SELECT secret_id::text AS secret_id, version, ciphertext FROM secret_versions
          WHERE organization_id = ${organizationId}::uuid AND ciphertext IS NOT NULL AND key_version < ${target}
            AND (secret_id, version) > (${after?.secret_id ?? "00000000-0000-0000-0000-000000000000"}::uuid, ${after?.version ?? 0})
          ORDER BY secret_id, version LIMIT ${batchSize}`;
      // Compare-and-set: a row changed meanwhile (pruned, re-wrapped elsewhere) is left alone.
      // The rows and the job's progress move in one statement (atomic on its own), so a
      // process killed mid-way cannot leave the progress behind what was really re-wrapped.
      const store = async (batch: Row[], fresh: string[]) => {
        await deps.db.$executeRaw`
          WITH moved AS (
            UPDATE secret_versions AS v SET ciphertext = u.fresh, key_version = u.key_version
            FROM unnest(${batch.map((b) => b.secret_id)}::uuid[], ${batch.map((b) => b.version)}::int[], ${batch.map((b) => b.ciphertext)}::text[], ${fresh}::text[], ${fresh.map(ciphertextKeyVersion)}::int[])
              AS u(secret_id, version, old, fresh, key_version)
            WHERE v.secret_id = u.secret_id AND v.version = u.version AND v.ciphertext = u.old
            RETURNING 1)
          UPDATE rewrap_jobs SET rewrapped = rewrapped + (SELECT count(*) FROM moved), updated_at = ${deps.clock()}
          WHERE id = ${jobId}::uuid`;
      };
      // A two-stage pipeline: while one batch is written back (database), the next is read
      // and re-wrapped (transit engine).
      let batch = await page(null);
      let writing: Promise<void> = Promise.resolve();
      while (batch.length > 0) {
        const next = Promise.all([
          deps.transit.rewrap(
            keyName,
            batch.map((b) => b.ciphertext),
          ),
          page(batch[batch.length - 1]!),
        ]);
        // The batch being written finishes (or fails) before anything else is decided, so a
        // failure of the next step leaves the job's progress exact.
        const [settledWrite, settledNext] = await Promise.allSettled([writing, next]);
        if (settledWrite.status === "rejected") throw settledWrite.reason;
        if (settledNext.status === "rejected") throw settledNext.reason;
        const [fresh, following] = settledNext.value;
        writing = store(batch, fresh);
        writing.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
        batch = following;
      }
      await writing;
      // The organization's other ciphertexts (OAuth secrets and tokens, webhook keys): few.
      await rewrapSealed(deps, { organizationId, keyName, target, batchSize });
      await deps.db.$transaction(
        async (tx) => {
          await lockChain(tx, organizationId);
          // Re-checked under the lock: a write that encrypted before the rotation may have landed.
          if (
            (await tx.secretVersion.count({
              where: { organizationId, ciphertext: { not: null }, keyVersion: { lt: target } },
            })) > 0 ||
            (await countStaleSealed(tx, organizationId, target)) > 0
          ) {
            throw new Error("old ciphertexts appeared during the re-wrap; run it again");
          }
          await tx.organization.update({
            where: { id: organizationId },
            data: { transitMinVersion: target },
          });
          const job = await tx.rewrapJob.findUniqueOrThrow({ where: { id: jobId } });
          await tx.rewrapJob.update({
            where: { id: jobId },
            data: {
              status: "COMPLETED",
              rewrapped: job.total,
              finishedAt: deps.clock(),
              updatedAt: deps.clock(),
              lastError: null,
            },
          });
          await record(
            tx,
            organizationId,
            {
              type: "SecretsRewrapCompleted",
              data: {
                jobId,
                keyName,
                targetKeyVersion: target,
                rewrapped: job.total,
                minDecryptionVersion: target,
              },
            },
            metadata,
          );
        },
        { maxWait: 5_000, timeout: 30_000 },
      );
      // After the commit, not under the chain lock: the organization's minimum, raised above
      // under the lock, already refuses old ciphertexts from writers. A transit call made
      // while holding the lock could wait for a pooled connection (the embedded keyring is
      // in this database) that writers queued on the lock are holding. If this fails, the
      // job is marked FAILED below and running it again raises the minimum.
      await deps.transit.setMinDecryptionVersion(keyName, target);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.warn(
        { jobId, organizationId, err: message },
        "re-wrap stopped; run it again to resume",
      );
      await deps.db.rewrapJob.update({
        where: { id: jobId },
        data: { status: "FAILED", lastError: message.slice(0, 500), updatedAt: deps.clock() },
      });
      throw error;
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
     * the job at once; `done` settles when it finishes. Organization OWNER only.
     */
    async startRewrap(caller: Caller, organizationId: string) {
      await requireOwner(caller, organizationId, "Re-wrapping secrets");
      const keyName = organizationKeyName(organizationId);
      const info = await deps.transit.readKey(keyName);
      if (!info) throw new ForbiddenError("This organization has no transit key");
      const target = info.latestVersion;
      const existing = await deps.db.rewrapJob.findFirst({
        where: { organizationId, targetKeyVersion: target, status: { in: ["RUNNING", "FAILED"] } },
        orderBy: { startedAt: "desc" },
      });
      const now = deps.clock();
      const total = await remaining(organizationId, target);
      const job = existing
        ? await deps.db.rewrapJob.update({
            where: { id: existing.id },
            data: { status: "RUNNING", lastError: null, updatedAt: now },
          })
        : await deps.db.$transaction(async (tx) => {
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
      let done = running.get(organizationId);
      if (!done) {
        done = run(job.id, organizationId, target, caller.metadata).finally(() =>
          running.delete(organizationId),
        );
        running.set(organizationId, done);
        done.catch(() => undefined); // recorded on the job; the caller may await `done` to see it
      }
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
