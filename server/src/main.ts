import { randomBytes, randomUUID } from "node:crypto";
import { promises as dns } from "node:dns";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { createApp } from "./app/createApp.ts";
import { ensureFirstRun } from "./app/firstRun.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { createConsole } from "./console/nextConsole.ts";
import { createPrismaClient } from "./db/database.ts";
import { startEmbeddedPostgres } from "./db/embeddedPostgres.ts";
import { applyMigrations, ensureAppLogin, ensureDatabase, withDatabase } from "./db/migrate.ts";
import { createHttpServer } from "./http/httpServer.ts";
import { createMetrics } from "./ops/metrics.ts";
import { createDispatcher } from "./webhooks/dispatcher.ts";
import { createRewrapRunner } from "./secrets/rewrapRunner.ts";
import { registerWebhookLag } from "./webhooks/lagGauge.ts";
import { createTransit } from "./transit/createTransit.ts";
import { instrumentedTransit } from "./transit/instrumentedTransit.ts";
import { createAssumeRole } from "./aws/assumeRole.ts";
import { awsDynamicCredentials } from "./aws/awsDynamicCredentials.ts";
import { createStsClients } from "./aws/createStsClients.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createEgress } from "./net/egress.ts";
import { createInvitationSweep } from "./tenancy/invitationSweep.ts";
import { invitationService } from "./tenancy/invitations.ts";

/** The one composition root: reads config, builds clients, starts servers. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const started = Date.now();
  const shutdown: (() => Promise<void>)[] = [];

  const databaseUrl = await prepareDatabase(config, logger, shutdown);
  const db = createPrismaClient(databaseUrl);
  shutdown.unshift(() => db.$disconnect());

  const transit = await createTransit(config.transit, { db, dataDir: config.dataDir, logger });
  shutdown.unshift(() => transit.stop());
  const assumeRole = createAssumeRole(createStsClients({ endpoint: config.aws.stsEndpoint }));
  // Every request to a tenant-chosen address goes through one of these guards (net/egress.ts);
  // the development loopback flags differ, the rest of the policy is EGRESS_*.
  const egressFor = (allowLoopback: boolean, loopbackFlag: string) =>
    createEgress({
      policy: { allowCidrs: config.egress.allowCidrs, allowLoopback, loopbackFlag },
      lookup: (hostname) => dns.lookup(hostname, { all: true, verbatim: true }),
      timeoutMs: config.egress.timeoutMs,
      maxResponseBytes: config.egress.maxResponseBytes,
    });
  const egress = {
    oauth: egressFor(config.oauthAllowLoopbackHttp, "OAUTH_ALLOW_LOOPBACK_HTTP"),
    webhooks: egressFor(config.webhooksAllowLoopbackHttp, "WEBHOOKS_ALLOW_LOOPBACK_HTTP"),
  };
  shutdown.unshift(
    () => egress.oauth.close(),
    () => egress.webhooks.close(),
  );
  let origin = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${config.port}`;
  const metrics = createMetrics();
  // COFFER_ROLE: an `api` replica runs nothing in the background, a `worker` serves no API.
  const servesApi = config.role !== "worker";
  const runsJobs = config.role !== "api";
  let app: ReturnType<typeof createApp> | undefined;
  if (servesApi) {
    // The rate limiter's own small pool: one short statement per request, kept apart from
    // Prisma's connections so a burst of limited requests cannot queue behind transactions.
    const rateLimitStore = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    rateLimitStore.on("error", () => undefined);
    shutdown.unshift(() => rateLimitStore.end());
    app = createApp({
      db,
      logger,
      metrics,
      rateLimits: { ...config.rateLimits, store: rateLimitStore },
      publicUrl: () => config.publicUrl ?? origin,
      egress,
      transit: transit.transit,
      dynamic: awsDynamicCredentials({ db, assumeRole }),
      sessionTtlMs: config.session.ttlMs,
      invitationTtlMs: config.invitationTtlMs,
      secureCookie: config.session.secureCookie,
      tuning: { rewrapLeaseMs: config.rewrap.leaseMs },
      runsJobs,
    });
    // Resolutions authenticate their token from memory while subscribed to token changes.
    const stopTokenCache = await app.services.apiTokens.listen(databaseUrl, (error) =>
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "API token subscription lost; authenticating every token from the database until it is back",
      ),
    );
    shutdown.unshift(stopTokenCache);
  }
  // Every background timer lives here (webhook delivery, the sweep that resumes re-wrap
  // jobs whose runner died, invitation expiry; see README, "Scaling out"); the others in server/src are per
  // process by nature (Vault token renewal, the rate limiter's idempotent sweep of expired rows).
  if (runsJobs) {
    const jobTransit = app?.transit ?? instrumentedTransit(transit.transit, metrics);
    const dispatcher = createDispatcher({
      db,
      transit: jobTransit,
      logger,
      egress: egress.webhooks,
      leaseMs: config.webhooks.leaseMs,
    });
    dispatcher.start();
    shutdown.unshift(() => dispatcher.stop());
    registerWebhookLag(metrics.registry, db);
    const rewrap =
      app?.services.rewrapRunner ??
      createRewrapRunner({
        db,
        clock: () => new Date(),
        newId: randomUUID,
        transit: jobTransit,
        logger,
        leaseMs: config.rewrap.leaseMs,
      });
    rewrap.start();
    shutdown.unshift(() => rewrap.stop());
    const invitationSweep = createInvitationSweep({
      invitations:
        app?.services.invitations ??
        invitationService({
          db,
          clock: () => new Date(),
          newId: randomUUID,
          publicUrl: () => config.publicUrl ?? origin,
          ttlMs: config.invitationTtlMs,
          sessionTtlMs: config.session.ttlMs,
        }),
      logger,
    });
    invitationSweep.start();
    shutdown.unshift(() => invitationSweep.stop());
  }
  const consoleHandle =
    app && config.console.enabled
      ? await createConsole({ dir: config.console.dir, logger })
      : undefined;
  if (consoleHandle) {
    shutdown.unshift(() => consoleHandle.close());
    consoleHandle.ready.then(
      () => logger.info({}, "admin console ready"),
      (error: unknown) =>
        logger.error(
          { err: String(error) },
          "admin console failed to start; the API keeps running",
        ),
    );
  }
  // The first-run owner exists before anything says "ready": signing in the moment
  // /readyz answers, or the log says so, must work.
  const firstRun = app
    ? await ensureFirstRun({ ...app.deps, transit: transit.transit }, config.firstRun)
    : undefined;
  const server = createHttpServer({
    yoga: app?.yoga,
    db,
    logger,
    console: consoleHandle,
    metrics,
    trustedProxies: config.trustedProxies,
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  origin = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port}`;
  if (firstRun) printFirstRunLogin(origin, firstRun);
  logger.info({ origin, role: config.role, ms: Date.now() - started }, "Coffer is ready");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const step of shutdown)
      await step().catch((error: unknown) =>
        logger.warn({ err: String(error) }, "shutdown step failed"),
      );
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/**
 * Embedded mode: start PostgreSQL in the data directory, migrate as its superuser, and
 * connect the app as a login in `coffer_app`, which cannot change the event log.
 * External mode: migrate with DATABASE_ADMIN_URL, connect with DATABASE_URL.
 */
async function prepareDatabase(
  config: Config,
  logger: Logger,
  shutdown: (() => Promise<void>)[],
): Promise<string> {
  if (config.database.kind === "external") {
    const result = await applyMigrations(config.database.adminUrl);
    logger.info({ applied: result.applied }, "migrations applied");
    if (config.database.adminUrl === config.database.url) {
      logger.warn(
        {},
        "DATABASE_URL is also used for migrations: give the app its own login in the coffer_app role so it cannot alter the audit log",
      );
    } else {
      // The app's login gets exactly coffer_app's rights (and is created if missing).
      const app = new URL(config.database.url);
      await ensureAppLogin(config.database.adminUrl, {
        user: decodeURIComponent(app.username),
        password: decodeURIComponent(app.password),
      });
    }
    return config.database.url;
  }
  const embedded = await startEmbeddedPostgres({
    dir: config.database.dir,
    port: config.database.port,
    persistent: true,
    log: logger,
  });
  shutdown.push(() => embedded.stop());
  await ensureDatabase(embedded.adminUrl, "coffer");
  const adminUrl = withDatabase(embedded.adminUrl, "coffer");
  const result = await applyMigrations(adminUrl);
  logger.info(
    { applied: result.applied, alreadyApplied: result.alreadyApplied },
    "migrations applied",
  );
  const login = { user: "coffer_app_login", password: appPassword(config.dataDir) };
  await ensureAppLogin(adminUrl, login);
  return withDatabase(embedded.adminUrl, "coffer", login);
}

function appPassword(dataDir: string): string {
  const file = path.join(dataDir, "app-db-password");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(24).toString("base64url"), { mode: 0o600 });
  }
  return readFileSync(file, "utf8").trim();
}

function printFirstRunLogin(
  origin: string,
  login: { email: string; password: string | null; organization: string; workspace: string },
): void {
  const lines = [
    "Coffer first run: an owner, an organization and a workspace were created.",
    `  Console:      ${origin}/`,
    `  GraphQL:      ${origin}/graphql`,
    `  Email:        ${login.email}`,
    login.password
      ? `  Password:     ${login.password}`
      : "  Password:     the one set in COFFER_ADMIN_PASSWORD",
    `  Organization: ${login.organization} / workspace: ${login.workspace}`,
    login.password
      ? "This password is shown only now. Change it after signing in (changePassword)."
      : "",
  ].filter(Boolean);
  process.stdout.write(`\n${lines.join("\n")}\n\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
