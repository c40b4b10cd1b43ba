// The server half of bench/load.ts, run by it as a child process (see load.ts for why):
// a throwaway embedded PostgreSQL, the real app and the real HTTP server on 127.0.0.1,
// a workspace with SECRETS secrets and an API token. It talks to its parent over IPC only.
// With `--attach <json>` (what the first server's "ready" carried) it is another replica:
// the same database and keyring, its own app, pools and HTTP server, nothing seeded.
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pg from "pg";
import pino from "pino";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { usageStream } from "../server/src/domain/usage/events.ts";
import { verifyChain } from "../server/src/eventstore/verifyChain.ts";
import { createHttpServer } from "../server/src/http/httpServer.ts";
import { createLogger, type Logger } from "../server/src/logger.ts";
import { attachBenchApp, startBenchApp, type BenchAttach } from "./benchApp.ts";

export type Memory = { rss: number; heapUsed: number; heapTotal: number };

export type ServerMessage =
  | {
      type: "ready";
      origin: string;
      token: string;
      workspaceId: string;
      secretNames: string[];
      memory: Memory;
      /** For more replicas on the same database (the first server only). */
      attach?: BenchAttach;
    }
  /** Another replica (`--attach`) listens. */
  | { type: "replica-ready"; origin: string }
  | { type: "marked" }
  /** CPU time (user + system) since the last "mark", in ms. */
  | { type: "cpu"; cpuMs: number }
  | {
      type: "report";
      memoryAfter: Memory;
      /** After a full GC; the child is always started with --expose-gc. */
      memoryAfterGc: Memory | null;
      chain: { ok: boolean; eventCount: number; detail: string };
      usageEvents: { resolved: number; failed: number };
      /** Versions added to the seeded secrets since they were created. */
      rotations: number;
      /**
       * The app's PostgreSQL sessions, sampled every SAMPLE_MS on a separate connection:
       * on average, how many ran a statement, how many of those waited for a lock (the
       * organization's chain lock, in practice), and how many sat in a transaction waiting
       * for the app to send its next statement.
       */
      sessions: {
        active: number;
        waitingForLock: number;
        idleInTransaction: number;
        samples: number;
      };
      /** Event loop delay since "ready" beyond the sampling interval, in ms. */
      eventLoopDelay: { p50: number; p99: number; max: number };
    };

export type ParentMessage =
  | { type: "report" }
  | { type: "stop" }
  /** Starts counting CPU (answered by "marked") and, on "cpu", answers what was spent. */
  | { type: "mark" }
  | { type: "cpu" };

/** Pool size of main.ts's Prisma client, so the server is sized as `npm start` sizes it. */
const POOL_SIZE = 10;
/** The event loop delay histogram's sampling interval (ms); its samples include it. */
const LOOP_SAMPLE_MS = 10;
const SAMPLE_MS = 200;

const secretCount = Number(process.argv[2] ?? 50);
const attachTo =
  process.argv[3] === "--attach" ? (JSON.parse(process.argv[4]!) as BenchAttach) : null;

function memory(): Memory {
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  return { rss, heapUsed, heapTotal };
}

function send(message: ServerMessage): void {
  process.send!(message);
}

/**
 * A bench app behind the real HTTP server on loopback: stopped (PostgreSQL with it, for the
 * first server) when the parent goes away or asks, and answering the parent's `mark` and
 * `cpu` messages; `onReport` gets the parent's `report` request.
 */
function serve(
  bench: Pick<Awaited<ReturnType<typeof attachBenchApp>>, "app" | "db" | "stop">,
  logger: Logger,
  onReport?: () => void,
) {
  const server = createHttpServer({
    yoga: bench.app.yoga,
    db: bench.db,
    logger,
    metrics: bench.app.metrics,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await bench.stop();
    process.exit(0);
  };
  // The parent went away (or asked us to stop): never leave PostgreSQL running.
  process.on("disconnect", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  let cpuAt = process.cpuUsage();
  process.on("message", (message: ParentMessage) => {
    if (message.type === "stop") return void stop();
    if (message.type === "mark") {
      cpuAt = process.cpuUsage();
      return send({ type: "marked" });
    }
    if (message.type === "cpu") {
      const cpu = process.cpuUsage(cpuAt);
      return send({ type: "cpu", cpuMs: (cpu.user + cpu.system) / 1000 });
    }
    if (message.type === "report") onReport?.();
  });
  return {
    stop,
    /** Listens on 127.0.0.1 only (the bench never listens on another interface). */
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      global.gc?.();
      cpuAt = process.cpuUsage();
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
  };
}

/** Serves one more replica of the first server's app until told to stop. */
async function replica(attach: BenchAttach): Promise<void> {
  const logger = createLogger("error", pino.destination(2));
  const bench = await attachBenchApp(attach, {
    poolSize: POOL_SIZE,
    logger,
    rateLimits: RATE_LIMITS,
    sharedRateLimits: true,
  });
  const served = serve(bench, logger);
  send({ type: "replica-ready", origin: await served.listen() });
}

/**
 * The defaults (1200 resolutions a minute per token) would turn most of the load into
 * RateLimitedError answers; the limiter itself still runs on every resolution, counting in
 * PostgreSQL as every `api` replica of main.ts does.
 */
const RATE_LIMITS = { signInsPerMinute: 10, resolutionsPerMinute: 1_000_000_000 };

async function main(): Promise<void> {
  if (!process.send) throw new Error("bench/loadServer.ts is started by bench/load.ts");
  if (attachTo) return replica(attachTo);
  // Unexpected errors (500s, masked resolver errors) go to stderr, where the parent shows them.
  const logger = createLogger("error", pino.destination(2));
  const bench = await startBenchApp({
    poolSize: POOL_SIZE,
    logger,
    rateLimits: RATE_LIMITS,
    sharedRateLimits: true,
  });
  let report: () => void = () => undefined;
  const { stop, listen } = serve(bench, logger, () => report());
  try {
    const target = { scope: "WORKSPACE" as const, workspaceId: bench.workspaceId };
    const secretNames = Array.from(
      { length: secretCount },
      (_, i) => `load-${String(i).padStart(3, "0")}`,
    );
    for (const name of secretNames)
      await bench.app.services.secrets.create(bench.caller, target, {
        name,
        type: "custom",
        values: [{ key: "TOKEN", value: `${name}-v1-${randomUUID()}` }],
      });
    const { token } = await bench.app.services.apiTokens.issue(
      bench.caller,
      { workspaceId: bench.workspaceId },
      { name: "load", permissions: ["secrets:read", "secrets:write", "secrets:resolve"] },
    );
    const origin = await listen();
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    loopDelay.enable();
    const sessions = { active: 0, waitingForLock: 0, idleInTransaction: 0, samples: 0 };
    const monitor = new pg.Client({ connectionString: bench.adminUrl });
    await monitor.connect();
    const sampler = setInterval(() => {
      monitor
        .query<{ active: string; waiting: string; idle_tx: string }>(
          `SELECT count(*) FILTER (WHERE state = 'active') AS active,
                  count(*) FILTER (WHERE state = 'idle in transaction') AS idle_tx,
                  count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock') AS waiting
           FROM pg_stat_activity WHERE usename = $1`,
          [bench.appLogin],
        )
        .then(({ rows: [row] }) => {
          sessions.active += Number(row!.active);
          sessions.waitingForLock += Number(row!.waiting);
          sessions.idleInTransaction += Number(row!.idle_tx);
          sessions.samples++;
        })
        .catch(() => undefined);
    }, SAMPLE_MS);
    send({
      type: "ready",
      origin,
      token,
      workspaceId: encodeGlobalID("Workspace", bench.workspaceId),
      secretNames,
      memory: memory(),
      attach: bench.attach,
    });

    report = () =>
      void (async () => {
        loopDelay.disable();
        clearInterval(sampler);
        await monitor.end();
        const memoryAfter = memory();
        let memoryAfterGc: Memory | null = null;
        if (global.gc) {
          global.gc();
          memoryAfterGc = memory();
        }
        const chain = await verifyChain(bench.db, bench.organizationId);
        const [usage] = await bench.db.$queryRaw<{ resolved: bigint; failed: bigint }[]>`
          SELECT count(*) FILTER (WHERE type = 'SecretsResolved') AS resolved,
                 count(*) FILTER (WHERE type = 'SecretsResolutionFailed') AS failed
          FROM events WHERE stream_id = ${usageStream(bench.workspaceId)}`;
        const [versions] = await bench.db.$queryRaw<{ rotations: bigint | null }[]>`
          SELECT sum(current_version - 1) AS rotations FROM secrets WHERE workspace_id = ${bench.workspaceId}::uuid`;
        send({
          type: "report",
          memoryAfter,
          memoryAfterGc,
          chain: chain.ok
            ? { ok: true, eventCount: chain.eventCount, detail: `head ${chain.headHash}` }
            : {
                ok: false,
                eventCount: chain.eventCount,
                detail: `${chain.reason} at position ${chain.firstBadPosition}`,
              },
          usageEvents: { resolved: Number(usage!.resolved), failed: Number(usage!.failed) },
          rotations: Number(versions!.rotations ?? 0),
          sessions: {
            active: sessions.active / Math.max(1, sessions.samples),
            waitingForLock: sessions.waitingForLock / Math.max(1, sessions.samples),
            idleInTransaction: sessions.idleInTransaction / Math.max(1, sessions.samples),
            samples: sessions.samples,
          },
          eventLoopDelay: {
            p50: Math.max(0, loopDelay.percentile(50) / 1e6 - LOOP_SAMPLE_MS),
            p99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_SAMPLE_MS),
            max: Math.max(0, loopDelay.max / 1e6 - LOOP_SAMPLE_MS),
          },
        });
      })().catch((error: unknown) => {
        console.error(error);
        void stop();
      });
  } catch (error) {
    console.error(error);
    await stop();
  }
}

void main();
