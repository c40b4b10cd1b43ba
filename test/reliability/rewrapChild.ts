/**
 * A process of its own running the real re-wrap job against a test database, with the
 * transit engine slowed down so that test/reliability/faults.int.test.ts can SIGKILL it
 * half-way. Run with `node --import tsx rewrapChild.ts '<json>'`, the JSON being
 * RewrapChildOptions. It prints one JSON line when the job has started and another when it
 * has finished (it should not get that far).
 */
import { createApp } from "../../server/src/app/createApp.ts";
import { createPrismaClient } from "../../server/src/db/database.ts";
import { createLogger } from "../../server/src/logger.ts";
import { LocalTransit } from "../../server/src/transit/LocalTransit.ts";
import { PrismaKeyringStore } from "../../server/src/transit/PrismaKeyringStore.ts";
import type { Transit } from "../../server/src/transit/Transit.ts";
import { testEgressPair } from "../testkit/egress.ts";
import { interceptTransit } from "../testkit/interceptTransit.ts";

export type RewrapChildOptions = {
  databaseUrl: string;
  /** The parent's LocalTransit master key, hex: both processes share one keyring. */
  masterKeyHex: string;
  organizationId: string;
  userId: string;
  batchSize: number;
  /** Added to every rewrap call. */
  rewrapDelayMs: number;
};

const options = JSON.parse(process.argv[2] ?? "{}") as RewrapChildOptions;
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
  tuning: { rewrapBatchSize: options.batchSize },
  egress: testEgressPair(),
});
const started = await app.services.transitKeys.startRewrap(
  {
    actor: { kind: "user", userId: options.userId, sessionId: "rewrap-child" },
    metadata: { actor: { kind: "user", id: options.userId } },
  },
  options.organizationId,
);
process.stdout.write(`${JSON.stringify({ started: started.job.id })}\n`);
await started.done;
process.stdout.write(`${JSON.stringify({ finished: started.job.id })}\n`);
await db.$disconnect();
