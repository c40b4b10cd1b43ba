// The cost of the hash chain: the event store's append against a plain INSERT of the
// same row into a table without a chain, in the same run:
//   npx tsx bench/append.ts [--events 2000] [--concurrency 8]
// Both sides run one event per interactive transaction through the app's Prisma client
// (an append always happens inside its command's transaction). The append adds the
// organization's chain lock, one statement reading the stream version, the chain head and
// the position, and the canonical-JSON SHA-256 of the event. The plain side inserts the
// same columns (a precomputed hash) into a copy of the events table with the same indexes
// and no triggers. With concurrency, all writers append to one organization, so they
// queue on its chain lock; the plain inserts do not. Goal: ratio ≤ 1.5.
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { appendToStream } from "../server/src/eventstore/append.ts";
import { createUsageLog } from "../server/src/resolution/usageLog.ts";
import type { EventMetadata } from "../server/src/eventstore/types.ts";
import { startBenchApp } from "./benchApp.ts";
import { runBench } from "./runBench.ts";

const TABLE = "bench_plain_events";

function options() {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "8" },
    },
    strict: true,
  });
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  return {
    events: positive("events", values.events),
    concurrency: positive("concurrency", values.concurrency),
  };
}

async function main(): Promise<void> {
  const { events, concurrency } = options();
  const bench = await startBenchApp();
  try {
    const admin = new pg.Client({ connectionString: bench.adminUrl });
    await admin.connect();
    await admin.query(`CREATE TABLE ${TABLE} (LIKE events INCLUDING INDEXES)`);
    await admin.query(`CREATE SEQUENCE ${TABLE}_position`);
    await admin.query(`GRANT SELECT, INSERT ON ${TABLE} TO coffer_app`);
    await admin.query(`GRANT USAGE ON SEQUENCE ${TABLE}_position TO coffer_app`);
    await admin.end();

    // What a resolution of 5 secrets appends: the bulk of Coffer's events.
    const data = {
      workspaceId: bench.workspaceId,
      environment: "default",
      onBehalfOf: null,
      purpose: { workflowId: "bench", runId: randomUUID(), actionRef: "act" },
      secrets: Array.from({ length: 5 }, (_, i) => ({
        secretId: randomUUID(),
        name: `secret-${i}`,
        scope: "WORKSPACE",
        environment: "default",
        version: 1,
        keyNames: ["TOKEN"],
        dynamic: null,
      })),
    };
    // A real token: the usage statement checks that every token it records is live.
    const { tokenId } = await bench.app.services.apiTokens.issue(
      bench.caller,
      { workspaceId: bench.workspaceId },
      { name: "bench", permissions: ["secrets:resolve"] },
    );
    const metadata: EventMetadata = {
      actor: { kind: "token", id: tokenId },
      tokenId,
      requestId: randomUUID(),
      ip: "127.0.0.1",
      userAgent: "bench",
    };
    const fakeHash = () => randomBytes(32).toString("hex");
    const dataJson = JSON.stringify(data);
    const metadataJson = JSON.stringify(metadata);

    let round = 0;
    const chained = async (worker: number, n: number) => {
      const streamId = `bench-${round}-${worker}`;
      for (let i = 0; i < n; i++)
        await bench.db.$transaction((tx) =>
          appendToStream(tx, {
            streamId,
            organizationId: bench.organizationId,
            expectedVersion: "any",
            events: [{ type: "SecretsResolved", data }],
            metadata,
            now: new Date(),
          }),
        );
    };
    const plain = async (worker: number, n: number) => {
      const streamId = `bench-${round}-${worker}`;
      for (let i = 0; i < n; i++)
        await bench.db.$transaction((tx) =>
          tx.$executeRawUnsafe(
            `INSERT INTO ${TABLE} (position, stream_id, stream_version, type, schema_version, data, metadata,
                                   organization_id, occurred_at, prev_hash, hash)
             VALUES (nextval('${TABLE}_position'), $1, $2, 'SecretsResolved', 1, $3::jsonb, $4::jsonb,
                     $5::uuid, $6, $7, $8)`,
            streamId,
            i + 1,
            dataJson,
            metadataJson,
            bench.organizationId,
            new Date(),
            fakeHash(),
            fakeHash(),
          ),
        );
    };
    /** Appends per second for `total` events split over `workers` concurrent writers. */
    const rate = async (write: typeof plain, total: number, workers: number) => {
      round++;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: workers }, (_, w) =>
          write(w, Math.floor(total / workers) + (w < total % workers ? 1 : 0)),
        ),
      );
      return total / ((performance.now() - started) / 1000);
    };

    await rate(chained, 200, 1); // warm-up
    await rate(plain, 200, 1);
    const lines: string[] = [];
    for (const workers of [1, concurrency]) {
      // Interleaved twice to spread the machine's drift over both sides.
      const p1 = await rate(plain, events, workers);
      const c1 = await rate(chained, events, workers);
      const p2 = await rate(plain, events, workers);
      const c2 = await rate(chained, events, workers);
      const plainRate = (p1 + p2) / 2;
      const chainRate = (c1 + c2) / 2;
      const label =
        workers === 1 ? "sequential" : `${workers} concurrent writers, one organization`;
      lines.push(
        `${label}: plain INSERT ${plainRate.toFixed(0)}/s (${(1000 / plainRate).toFixed(2)} ms each), ` +
          `chained append ${chainRate.toFixed(0)}/s (${(1000 / chainRate).toFixed(2)} ms each), ` +
          `ratio ${(plainRate / chainRate).toFixed(2)} (goal: ≤ 1.50)`,
      );
    }
    // Group commit (resolution/usageLog.ts): 64 concurrent resolvers of one organization,
    // each recording its usage events one after another as resolutions do, with the
    // projection, through the same statement the service sends.
    const secretIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      await bench.app.services.secrets.create(
        bench.caller,
        { scope: "WORKSPACE", workspaceId: bench.workspaceId },
        { name: `gc-${i}`, type: "custom", values: [{ key: "TOKEN", value: randomUUID() }] },
      );
    }
    for (const row of await bench.db.secret.findMany({ where: { name: { startsWith: "gc-" } } }))
      secretIds.push(row.id);
    const usageData = {
      ...data,
      secrets: data.secrets.map((s, i) => ({ ...s, secretId: secretIds[i]! })),
    };
    const usageLog = createUsageLog({ db: bench.db });
    const grouped = async (_worker: number, n: number) => {
      for (let i = 0; i < n; i++)
        await usageLog.record({
          organizationId: bench.organizationId,
          workspaceId: bench.workspaceId,
          event: { type: "SecretsResolved", data: usageData },
          metadata,
          now: new Date(),
        });
    };
    const resolvers = 64;
    const groupEvents = Math.max(events * 4, resolvers * 20);
    await rate(grouped, resolvers * 4, resolvers); // warm-up
    const ceiling = async () => await rate(chained, events, concurrency);
    const g1 = await rate(grouped, groupEvents, resolvers);
    const k1 = await ceiling();
    const g2 = await rate(grouped, groupEvents, resolvers);
    const k2 = await ceiling();
    const groupRate = (g1 + g2) / 2;
    const ceilingRate = (k1 + k2) / 2;
    lines.push(
      `group-committed usage appends (with their projection), ${resolvers} concurrent resolvers, one organization: ` +
        `${groupRate.toFixed(0)}/s (goal: ≥ 8000/s); ${(groupRate / ceilingRate).toFixed(2)}× the chained append ` +
        `with ${concurrency} concurrent writers in this run, ${ceilingRate.toFixed(0)}/s (goal: ≥ 4×)`,
    );
    process.stdout.write(
      `${events} events of ${dataJson.length + metadataJson.length} bytes of JSON each, one per transaction\n`,
    );
    for (const line of lines) process.stdout.write(`${line}\n`);
  } finally {
    await bench.stop();
  }
}

runBench(main);
