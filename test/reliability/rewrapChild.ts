/**
 * A process of its own running the real re-wrap runner against a test database, with the
 * transit engine slowed down, so that test/reliability/rewrapProcesses.int.test.ts can
 * SIGKILL or SIGSTOP it half-way. Run with `node --import tsx rewrapChild.ts '<json>'`, the
 * JSON being RewrapChildOptions. It prints JSON lines:
 * With `waitForGo` it first prints `{"ready":true}` and waits for a line on stdin.
 * - mode "start" (a replica serving `rewrapSecrets`): `{"started": id}` once the job is
 *   open, then `{"finished": id}`, or `{"lost": id}` when its lease was taken over;
 * - mode "sweep" (a worker replica): `{"swept": id}` once it has completed a job that
 *   another runner left behind.
 */
import { createApp } from "../../server/src/app/createApp.ts";
import { createPrismaClient } from "../../server/src/db/database.ts";
import { LeaseLostError } from "../../server/src/errors/LeaseLostError.ts";
import { createLogger } from "../../server/src/logger.ts";
import { LocalTransit } from "../../server/src/transit/LocalTransit.ts";
import { PrismaKeyringStore } from "../../server/src/transit/PrismaKeyringStore.ts";
import type { Transit } from "../../server/src/transit/Transit.ts";
import { testEgressPair } from "../testkit/egress.ts";
import { interceptTransit } from "../testkit/interceptTransit.ts";

export type RewrapChildOptions = {
  mode: "start" | "sweep";
  databaseUrl: string;
  /** The parent's LocalTransit master key, hex: every process shares one keyring. */
  masterKeyHex: string;
  organizationId: string;
  userId: string;
  batchSize: number;
  /** Added to every rewrap call. */
  rewrapDelayMs: number;
  leaseMs: number;
  /** Print `{"ready":true}` and wait for a line on stdin before starting (a barrier). */
  waitForGo?: boolean;
};

const options = JSON.parse(process.argv[2] ?? "{}") as RewrapChildOptions;
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const db = createPrismaClient(options.databaseUrl, 2);
const local = new LocalTransit(
  new PrismaKeyringStore(db, Buffer.from(options.masterKeyHex, "hex")),
);
const slow: Transit = interceptTransit(local, async (method) => {
  if (method === "rewrap") await new Promise((r) => setTimeout(r, options.rewrapDelayMs));
});
const app = createApp({
  db,
  logger: createLogger("silent"),
  transit: slow,
  sessionTtlMs: 60_000,
  secureCookie: false,
  tuning: { rewrapBatchSize: options.batchSize, rewrapLeaseMs: options.leaseMs },
  egress: testEgressPair(),
});

if (options.waitForGo) {
  print({ ready: true });
  await new Promise((resolve) => process.stdin.once("data", resolve));
  process.stdin.pause();
}

if (options.mode === "start") {
  const started = await app.services.transitKeys.startRewrap(
    {
      actor: {
        kind: "user",
        userId: options.userId,
        sessionId: "rewrap-child",
        mfa: false,
        ssoOrganizationId: null,
      },
      metadata: { actor: { kind: "user", id: options.userId } },
    },
    options.organizationId,
  );
  print({ started: started.job.id });
  try {
    await started.done;
    print({ finished: started.job.id });
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    print({ lost: started.job.id });
  }
} else {
  // A worker: sweeps until the organization's latest job is complete (bounded).
  const runner = app.services.rewrapRunner;
  runner.start(50);
  for (let i = 0; i < 600; i++) {
    const job = await db.rewrapJob.findFirst({
      where: { organizationId: options.organizationId },
      orderBy: { startedAt: "desc" },
    });
    if (job?.status === "COMPLETED") {
      print({ swept: job.id });
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await runner.stop();
}
await db.$disconnect();
