import { randomBytes, randomUUID } from "node:crypto";
import { promises as dns } from "node:dns";
import pg from "pg";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../server/src/app/createApp.ts";
import type { Caller } from "../server/src/CoreDeps.ts";
import { createPrismaClient, type Db } from "../server/src/db/database.ts";
import { startEmbeddedPostgres } from "../server/src/db/embeddedPostgres.ts";
import {
  applyMigrations,
  ensureAppLogin,
  ensureDatabase,
  withDatabase,
} from "../server/src/db/migrate.ts";
import { inTransaction } from "../server/src/eventstore/executeCommand.ts";
import { createLogger, type Logger } from "../server/src/logger.ts";
import { createEgress } from "../server/src/net/egress.ts";
import { freePort } from "../server/src/net/freePort.ts";
import { registerUser } from "../server/src/tenancy/users.ts";
import { LocalTransit } from "../server/src/transit/LocalTransit.ts";
import { PrismaKeyringStore } from "../server/src/transit/PrismaKeyringStore.ts";

/**
 * A throwaway embedded PostgreSQL with the migrations applied and the real app on top
 * (LocalTransit), plus one owner with an organization and a workspace: what the benches
 * measure against. `takeStatementCount` counts every SQL statement the app's Prisma
 * client sends.
 */
const benchEgress = (loopbackFlag: string) =>
  createEgress({
    policy: { allowCidrs: [], allowLoopback: false, loopbackFlag },
    lookup: (hostname) => dns.lookup(hostname, { all: true }),
    timeoutMs: 10_000,
    maxResponseBytes: 1024 * 1024,
  });

export async function startBenchApp(
  options: {
    tuning?: { rewrapBatchSize?: number };
    /** The app's pg pool; 8 unless given (main.ts uses 10). */
    poolSize?: number;
    rateLimits?: { signInsPerMinute: number; resolutionsPerMinute: number };
    /** The app's logger; silent unless given. */
    logger?: Logger;
    /** Count rate limits in PostgreSQL (rate_limits), shared by every replica. */
    sharedRateLimits?: boolean;
  } = {},
) {
  const runDirectory = await mkdtemp(join(tmpdir(), "coffer-bench-"));
  await chmod(runDirectory, 0o711); // as root, the postgres OS user must reach data/
  const server = await startEmbeddedPostgres({
    dir: join(runDirectory, "data"),
    port: await freePort(),
    persistent: false,
    durable: false,
    log: { info: () => undefined, warn: () => undefined },
  });
  await ensureDatabase(server.adminUrl, "coffer_bench");
  const adminUrl = withDatabase(server.adminUrl, "coffer_bench");
  await applyMigrations(adminUrl);
  const login = { user: "coffer_bench_app", password: randomUUID() };
  await ensureAppLogin(adminUrl, login);
  const appUrl = withDatabase(server.adminUrl, "coffer_bench", login);
  const masterKey = randomBytes(32);
  const { db, transit, app, stopApp, takeStatementCount } = await buildBenchApp(
    appUrl,
    masterKey,
    options,
  );

  const userId = randomUUID();
  const password = randomUUID();
  const email = `bench-${userId.slice(0, 8)}@example.test`;
  await inTransaction(db, (tx) =>
    registerUser(tx, {
      userId,
      email,
      name: "Bench",
      password,
      metadata: { actor: { kind: "system", id: "bench" } },
      now: new Date(),
    }),
  );
  const caller: Caller = {
    actor: { kind: "user", userId, sessionId: "bench", mfa: false, ssoOrganizationId: null },
    metadata: { actor: { kind: "user", id: userId } },
  };
  const organizationId = await app.services.organizations.create(caller, { name: "Bench" });
  const workspaceId = await app.services.workspaces.create(caller, organizationId, {
    name: "Bench",
  });
  const session = await app.services.sessions.signIn(email, password, {});

  return {
    /** Superuser URL of the throwaway database (for scratch tables the app login may not create). */
    adminUrl,
    /** What another process needs to serve the same app on the same database (a replica). */
    attach: { appUrl, masterKeyHex: masterKey.toString("hex") } satisfies BenchAttach,
    /** The PostgreSQL user the app connects as. */
    appLogin: login.user,
    db,
    transit,
    app,
    caller,
    organizationId,
    workspaceId,
    cookie: `coffer_session=${session.token}`,
    /** SQL statements sent since the last call. */
    takeStatementCount,
    async stop() {
      await stopApp();
      await server.stop();
      await rm(runDirectory, { recursive: true, force: true });
    },
  };
}

export type BenchAttach = { appUrl: string; masterKeyHex: string };
type BenchAppOptions = Parameters<typeof startBenchApp>[0] & {};

/** Another replica of a bench app: the same database and keyring, its own process and pools. */
export async function attachBenchApp(attach: BenchAttach, options: BenchAppOptions = {}) {
  const built = await buildBenchApp(
    attach.appUrl,
    Buffer.from(attach.masterKeyHex, "hex"),
    options,
  );
  return { db: built.db, app: built.app, stop: built.stopApp };
}

/** The app as main.ts builds it on `appUrl`: keyrings and tokens cached while subscribed to changes. */
async function buildBenchApp(appUrl: string, masterKey: Buffer, options: BenchAppOptions) {
  let statements = 0;
  const db: Db = createPrismaClient(appUrl, options.poolSize ?? 8, () => statements++);
  const keyring = new PrismaKeyringStore(db, masterKey);
  const stopListening = await keyring.listen(appUrl);
  const transit = new LocalTransit(keyring);
  // With a shared store, as main.ts runs every `api` replica: counters in PostgreSQL.
  const rateLimitStore = options.sharedRateLimits
    ? new pg.Pool({ connectionString: appUrl, max: 4 })
    : undefined;
  // As main.ts: an idle connection dropped at shutdown must not crash the bench.
  rateLimitStore?.on("error", () => undefined);
  const app = createApp({
    db,
    logger: options.logger ?? createLogger("silent"),
    transit,
    sessionTtlMs: 3_600_000,
    secureCookie: false,
    // Benchmarks call no tenant-chosen address; the guards are there because the app needs them.
    egress: {
      oauth: benchEgress("OAUTH_ALLOW_LOOPBACK_HTTP"),
      webhooks: benchEgress("WEBHOOKS_ALLOW_LOOPBACK_HTTP"),
    },
    ...(options.tuning ? { tuning: options.tuning } : {}),
    ...(options.rateLimits
      ? {
          rateLimits: {
            ...options.rateLimits,
            ...(rateLimitStore ? { store: rateLimitStore } : {}),
          },
        }
      : {}),
  });
  const stopTokenCache = await app.services.apiTokens.listen(appUrl);
  return {
    db,
    transit,
    app,
    takeStatementCount() {
      const n = statements;
      statements = 0;
      return n;
    },
    async stopApp() {
      await stopTokenCache();
      await stopListening();
      await rateLimitStore?.end();
      await db.$disconnect();
    },
  };
}
