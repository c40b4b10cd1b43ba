import { Prisma } from "../generated/prisma/client.ts";
import type { Db, Tx } from "../db/database.ts";
import { LeaseLostError } from "../errors/LeaseLostError.ts";
import type { Logger } from "../logger.ts";

/** A re-wrap job as its runner sees it once claimed. */
export type ClaimedJob = {
  id: string;
  organizationId: string;
  targetKeyVersion: number;
  status: "RUNNING" | "FINALIZING";
  total: number;
  fence: bigint;
};

/**
 * The lease on one re-wrap job. A claim takes a job that no live lease holds, on the
 * database's clock, and increments its fencing token (`fence`); every write the runner
 * makes names that token (`fenced`, `lockFence`), so a runner that was paused past its
 * lease — and has been replaced — writes nothing, even before it notices. The lease is
 * renewed in the background; `lost` aborts as soon as a renewal finds it gone, or when no
 * renewal has succeeded for a whole lease.
 */
export function rewrapLeases(deps: { db: Db; logger: Logger; leaseMs: number; owner: string }) {
  const seconds = deps.leaseMs / 1000;

  async function claim(jobId: string) {
    const [job] = await deps.db.$queryRaw<(Omit<ClaimedJob, "fence"> & { fence: string })[]>`
      UPDATE rewrap_jobs
      SET lease_owner = ${deps.owner}, lease_until = now() + make_interval(secs => ${seconds}::float8),
          fence = fence + 1
      WHERE id = ${jobId}::uuid AND status IN ('RUNNING', 'FINALIZING')
        AND (lease_until IS NULL OR lease_until < now())
      RETURNING id::text, organization_id::text AS "organizationId",
        target_key_version AS "targetKeyVersion", status, total, fence::text`;
    return job ? hold({ ...job, fence: BigInt(job.fence) }) : undefined;
  }

  function hold(job: ClaimedJob) {
    const lost = new AbortController();
    let renewedAt = Date.now();
    const renew = async () => {
      const sentAt = Date.now();
      const held = await deps.db.$executeRaw`
        UPDATE rewrap_jobs SET lease_until = now() + make_interval(secs => ${seconds}::float8)
        WHERE id = ${job.id}::uuid AND fence = ${job.fence}`;
      if (held === 1) renewedAt = sentAt;
      else lost.abort();
    };
    const heartbeat = setInterval(
      () => {
        if (Date.now() - renewedAt >= deps.leaseMs) return lost.abort();
        renew().catch((error: unknown) =>
          deps.logger.warn({ jobId: job.id, err: String(error) }, "re-wrap lease renewal failed"),
        );
      },
      Math.max(10, deps.leaseMs / 4),
    );
    heartbeat.unref();
    const stop = () => clearInterval(heartbeat);
    lost.signal.addEventListener("abort", stop);
    return {
      job,
      lost: lost.signal,
      /** Throws when the lease is known to be gone (cheap; the database check is in every write). */
      check() {
        if (lost.signal.aborted) throw new LeaseLostError(`re-wrap job ${job.id}`);
      },
      /**
       * Runs `statement` (whose writes join the CTE `lease`, empty unless this runner still
       * holds the job) and throws LeaseLostError when `held` says it does not.
       */
      async fenced<Row extends { held: number }>(
        db: Db | Tx,
        statement: (lease: Prisma.Sql) => Prisma.Sql,
      ): Promise<Row> {
        this.check();
        const lease = Prisma.sql`lease AS (SELECT id FROM rewrap_jobs WHERE id = ${job.id}::uuid AND fence = ${job.fence} FOR UPDATE)`;
        const [row] = await db.$queryRaw<Row[]>(statement(lease));
        if (!row || row.held !== 1) {
          lost.abort();
          throw new LeaseLostError(`re-wrap job ${job.id}`);
        }
        return row;
      },
      /** Inside a transaction: locks the job row if this runner still holds it, else throws. */
      async lockFence(tx: Tx) {
        await this.fenced(
          tx,
          (lease) => Prisma.sql`WITH ${lease} SELECT count(*)::int AS held FROM lease`,
        );
      },
      /** Hands the job back (still open) so another replica can take it at once. */
      async release() {
        stop();
        if (lost.signal.aborted) return;
        await deps.db.$executeRaw`
          UPDATE rewrap_jobs SET lease_owner = NULL, lease_until = NULL
          WHERE id = ${job.id}::uuid AND fence = ${job.fence}`;
      },
      stop,
    };
  }

  return {
    claim,
    /** Open jobs no live lease holds, oldest first: what a sweep should pick up. */
    async claimable(limit: number): Promise<string[]> {
      const rows = await deps.db.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM rewrap_jobs
        WHERE status IN ('RUNNING', 'FINALIZING') AND (lease_until IS NULL OR lease_until < now())
        ORDER BY started_at LIMIT ${limit}`;
      return rows.map((r) => r.id);
    },
  };
}

export type RewrapLease = NonNullable<
  Awaited<ReturnType<ReturnType<typeof rewrapLeases>["claim"]>>
>;
