import { Prisma } from "../generated/prisma/client.ts";
import type { CoreDeps } from "../CoreDeps.ts";
import type { Tx } from "../db/database.ts";
import type { TransitKeyEvent } from "../domain/transitKey/events.ts";
import { recordTransitKeyEvent } from "./recordTransitKeyEvent.ts";
import { LeaseLostError } from "../errors/LeaseLostError.ts";
import { lockChain } from "../eventstore/append.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import type { Logger } from "../logger.ts";
import { instanceName } from "../ops/instanceName.ts";
import { ciphertextKeyVersion, organizationKeyName, type Transit } from "../transit/Transit.ts";
import { rewrapLeases, type RewrapLease } from "./rewrapLease.ts";
import { countStaleSealed, rewrapSealed } from "./sealedCiphertexts.ts";

/** Events of a job that no caller is waiting for (a sweep's) carry this actor. */
const SYSTEM: EventMetadata = { actor: { kind: "system", id: "rewrap-runner" } };

/**
 * Runs re-wrap jobs on whichever replica claims them (see rewrapLease.ts). A job moves
 * every stored ciphertext of an organization to the newest key version through the transit
 * engine's `rewrap` (Coffer never sees the plaintext), in batches, each row updated only if
 * it still holds the ciphertext that was re-wrapped, and only while the lease is held. It
 * is idempotent and resumable: a runner that died half-way leaves the job RUNNING with a
 * lease that lapses, and the next sweep (or `rewrapSecrets`) continues from whatever is
 * still on an old version.
 *
 * Completion is three steps, each one atomic, so that no one ever sees COMPLETED before the
 * key refuses old versions:
 *  1. under the organization's chain lock, with nothing old left, the organization's
 *     minimum version is raised (writers refuse old ciphertexts from then on), the job
 *     becomes FINALIZING, and `TransitKeyMinimumRaised` is recorded;
 *  2. the transit key's minimum decryption version is raised (idempotent; outside the lock:
 *     a transit call made while holding it could wait for a pooled connection that writers
 *     queued on the lock are holding, with the embedded keyring);
 *  3. the job becomes COMPLETED and `SecretsRewrapCompleted` is recorded, in one transaction
 *     that names the runner's fencing token: exactly one completion per job.
 * A runner that stops after 1 leaves a FINALIZING job, which the next runner finishes at 2.
 */
export function createRewrapRunner(
  deps: CoreDeps & {
    transit: Transit;
    logger: Logger;
    batchSize?: number | undefined;
    leaseMs?: number | undefined;
    owner?: string | undefined;
  },
) {
  const batchSize = deps.batchSize ?? 500;
  const leases = rewrapLeases({
    db: deps.db,
    logger: deps.logger,
    leaseMs: deps.leaseMs ?? 30_000,
    owner: deps.owner ?? instanceName(),
  });
  /** Jobs this process is running, so a second start here joins the first. */
  const running = new Map<string, Promise<void>>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  const record = (
    tx: Tx,
    organizationId: string,
    event: TransitKeyEvent,
    metadata: EventMetadata,
  ) => recordTransitKeyEvent(tx, deps.clock(), organizationId, event, metadata);

  /** Moves the secret versions still below the target: keyset pages, a two-stage pipeline. */
  async function rewrapVersions(lease: RewrapLease, keyName: string): Promise<void> {
    const { organizationId, targetKeyVersion: target } = lease.job;
    type Row = { secret_id: string; version: number; ciphertext: string };
    const page = (after: Row | null) =>
      deps.db.$queryRaw<Row[]>`
        SELECT secret_id::text AS secret_id, version, ciphertext FROM secret_versions
        WHERE organization_id = ${organizationId}::uuid AND ciphertext IS NOT NULL AND key_version < ${target}
          AND (secret_id, version) > (${after?.secret_id ?? "00000000-0000-0000-0000-000000000000"}::uuid, ${after?.version ?? 0})
        ORDER BY secret_id, version LIMIT ${batchSize}`;
    // Compare-and-set under the lease: a row changed meanwhile (pruned, re-wrapped
    // elsewhere) is left alone, and nothing is written once the lease is gone. The rows
    // and the job's progress move in one statement, so a process killed mid-way cannot
    // leave the progress behind what was really re-wrapped.
    const store = async (batch: Row[], fresh: string[]) => {
      await lease.fenced(
        deps.db,
        (held) => Prisma.sql`
          WITH ${held}, moved AS (
            UPDATE secret_versions AS v SET ciphertext = u.fresh, key_version = u.key_version
            FROM unnest(${batch.map((b) => b.secret_id)}::uuid[], ${batch.map((b) => b.version)}::int[], ${batch.map((b) => b.ciphertext)}::text[], ${fresh}::text[], ${fresh.map(ciphertextKeyVersion)}::int[])
              AS u(secret_id, version, old, fresh, key_version), lease
            WHERE v.secret_id = u.secret_id AND v.version = u.version AND v.ciphertext = u.old
            RETURNING 1),
          progress AS (
            UPDATE rewrap_jobs SET rewrapped = rewrapped + (SELECT count(*) FROM moved), updated_at = ${deps.clock()}
            WHERE id = (SELECT id FROM lease) RETURNING 1)
          SELECT (SELECT count(*) FROM progress)::int AS held`,
      );
    };
    // While one batch is written back (database), the next is read and re-wrapped (transit).
    let batch = await page(null);
    let writing: Promise<void> = Promise.resolve();
    while (batch.length > 0) {
      if (stopping) throw new Stopping();
      lease.check();
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
  }

  /** Step 1: the organization's minimum, raised under its chain lock once nothing is old. */
  async function raiseOrganizationMinimum(
    lease: RewrapLease,
    keyName: string,
    metadata: EventMetadata,
  ) {
    const { id: jobId, organizationId, targetKeyVersion: target } = lease.job;
    await deps.db.$transaction(
      async (tx) => {
        await lockChain(tx, organizationId);
        await lease.lockFence(tx);
        // Re-checked under the lock: a write that encrypted before the rotation may have landed.
        if (
          (await tx.secretVersion.count({
            where: { organizationId, ciphertext: { not: null }, keyVersion: { lt: target } },
          })) > 0 ||
          (await countStaleSealed(tx, organizationId, target)) > 0
        ) {
          throw new Error("old ciphertexts appeared during the re-wrap; run it again");
        }
        // Never lowered: a job for a newer version may have finished first.
        await tx.organization.updateMany({
          where: { id: organizationId, transitMinVersion: { lt: target } },
          data: { transitMinVersion: target },
        });
        await tx.rewrapJob.update({
          where: { id: jobId },
          data: { status: "FINALIZING", updatedAt: deps.clock() },
        });
        await record(
          tx,
          organizationId,
          {
            type: "TransitKeyMinimumRaised",
            data: { jobId, keyName, minDecryptionVersion: target },
          },
          metadata,
        );
      },
      { maxWait: 5_000, timeout: 30_000 },
    );
  }

  /** Step 3: COMPLETED and its event, once, by the holder of the lease. */
  async function complete(lease: RewrapLease, keyName: string, metadata: EventMetadata) {
    const { id: jobId, organizationId, targetKeyVersion: target } = lease.job;
    await deps.db.$transaction(
      async (tx) => {
        await lease.lockFence(tx);
        const job = await tx.rewrapJob.update({
          where: { id: jobId },
          data: {
            status: "COMPLETED",
            rewrapped: { set: lease.job.total },
            finishedAt: deps.clock(),
            updatedAt: deps.clock(),
            lastError: null,
            leaseOwner: null,
            leaseUntil: null,
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
  }

  /** Marks the job FAILED (lease released) if still held; answers the loss otherwise. */
  async function recordFailure(lease: RewrapLease, error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    try {
      await lease.fenced(
        deps.db,
        (held) => Prisma.sql`
          WITH ${held}, failed AS (
            UPDATE rewrap_jobs SET status = 'FAILED', last_error = ${message.slice(0, 500)},
              updated_at = ${deps.clock()}, lease_owner = NULL, lease_until = NULL
            WHERE id = (SELECT id FROM lease) RETURNING 1)
          SELECT (SELECT count(*) FROM failed)::int AS held`,
      );
    } catch (recording) {
      if (recording instanceof LeaseLostError) return recording;
      deps.logger.warn(
        { jobId: lease.job.id, err: String(recording) },
        "re-wrap failure not recorded",
      );
      return undefined;
    }
    deps.logger.warn(
      { jobId: lease.job.id, organizationId: lease.job.organizationId, err: message },
      "re-wrap stopped; run it again to resume",
    );
    return undefined;
  }

  async function work(lease: RewrapLease, metadata: EventMetadata): Promise<void> {
    const { id: jobId, organizationId, targetKeyVersion: target } = lease.job;
    const keyName = organizationKeyName(organizationId);
    try {
      if (lease.job.status === "RUNNING") {
        await rewrapVersions(lease, keyName);
        // The organization's other ciphertexts (OAuth secrets and tokens, webhook keys): few.
        await rewrapSealed(deps, { organizationId, keyName, target, batchSize, lease });
        await raiseOrganizationMinimum(lease, keyName, metadata);
      }
      lease.check();
      const key = await deps.transit.readKey(keyName);
      if (!key || key.minDecryptionVersion < target)
        await deps.transit.setMinDecryptionVersion(keyName, target);
      await complete(lease, keyName, metadata);
    } catch (error) {
      if (error instanceof Stopping) {
        await lease.release();
        deps.logger.info({ jobId, organizationId }, "re-wrap handed back at shutdown");
        return;
      }
      // A failure is recorded only by the job's holder; one that lost the lease meanwhile
      // (its late batch may fail because the new holder already finished) stays silent.
      const lost = error instanceof LeaseLostError ? error : await recordFailure(lease, error);
      if (lost) {
        deps.logger.warn(
          { jobId, organizationId },
          "re-wrap lease lost; another runner has the job",
        );
        throw lost;
      }
      throw error;
    } finally {
      lease.stop();
    }
  }

  /**
   * Runs one job here if no live lease holds it; settles when this runner is done with it
   * (finished, failed, handed back, or found held elsewhere — then it resolves at once).
   */
  function run(jobId: string, metadata: EventMetadata = SYSTEM): Promise<void> {
    let done = running.get(jobId);
    if (done) return done;
    done = (async () => {
      const lease = await leases.claim(jobId);
      if (lease) await work(lease, metadata);
    })().finally(() => running.delete(jobId));
    running.set(jobId, done);
    return done;
  }

  /** One pass: runs every open job whose lease lapsed (a dead runner's), one at a time. */
  async function sweep(): Promise<number> {
    let ran = 0;
    for (const jobId of await leases.claimable(8)) {
      if (stopping) break;
      await run(jobId).then(
        () => ran++,
        (error: unknown) =>
          deps.logger.warn({ jobId, err: String(error) }, "swept re-wrap job did not finish"),
      );
    }
    return ran;
  }

  return {
    run,
    sweep,
    /** Sweeps every `intervalMs` (a worker replica's job). */
    start(intervalMs = 1000) {
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = sweep()
          .catch((error: unknown) => {
            deps.logger.error({ err: String(error) }, "re-wrap sweep failed");
            return 0;
          })
          .finally(() => (sweeping = undefined));
      }, intervalMs);
      timer.unref();
    },
    /** Stops sweeping and hands running jobs back at their next batch. */
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      await Promise.allSettled([sweeping, ...running.values()]);
    },
  };
}

/** Thrown inside a job when the process is shutting down: the lease is handed back. */
class Stopping extends Error {}

export type RewrapRunner = ReturnType<typeof createRewrapRunner>;
