import { randomUUID } from "node:crypto";
import type { Db } from "../db/database.ts";
import { createGraphQLServer } from "../graphql/yoga.ts";
import type { Logger } from "../logger.ts";
import type { Egress } from "../net/egress.ts";
import { createMetrics, type Metrics } from "../ops/metrics.ts";
import { createRateLimits, type RateLimitOptions } from "../ops/rateLimits.ts";
import type { DynamicCredentials } from "../resolution/dynamicCredentials.ts";
import { instrumentedTransit } from "../transit/instrumentedTransit.ts";
import type { Transit } from "../transit/Transit.ts";
import { createServices } from "./createServices.ts";

/** Everything request-facing, built from already-constructed clients (main.ts and tests). */
export function createApp(options: {
  db: Db;
  logger: Logger;
  sessionTtlMs: number;
  /** How long an invitation link works (7 days by default). */
  invitationTtlMs?: number;
  secureCookie: boolean;
  transit: Transit;
  /** Where browsers reach this server (OAuth redirect URIs); known once it listens. */
  publicUrl?: () => string;
  /** The egress guards for requests to tenant-chosen addresses (OAuth endpoints, webhooks). */
  egress: { oauth: Egress; webhooks: Egress };
  /** Credentials minted at resolution time (AWS role assumption); none when omitted. */
  dynamic?: DynamicCredentials;
  /** Knobs with production defaults that tests turn down (version retention, batch sizes). */
  tuning?: { keepVersions?: number; rewrapBatchSize?: number; rewrapLeaseMs?: number };
  /** False in an `api` replica (COFFER_ROLE): background jobs are a worker's. */
  runsJobs?: boolean;
  /** Per-minute limits; generous defaults. With `store`, counted in PostgreSQL across replicas. */
  rateLimits?: RateLimitOptions;
  metrics?: Metrics;
  clock?: () => Date;
  newId?: () => string;
}) {
  const deps = {
    db: options.db,
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
  };
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
  const limits = createRateLimits(
    options.rateLimits ?? { signInsPerMinute: 10, resolutionsPerMinute: 1200 },
    (limit) => metrics.rateLimited.inc({ limit }),
  );
  const transit = instrumentedTransit(options.transit, metrics);
  const services = createServices(deps, {
    sessionTtlMs: options.sessionTtlMs,
    invitationTtlMs: options.invitationTtlMs ?? 7 * 24 * 3600_000,
    transit,
    logger: options.logger,
    limits,
    metrics,
    ...options.tuning,
    runsJobs: options.runsJobs ?? true,
    publicUrl: options.publicUrl ?? (() => "http://127.0.0.1:4000"),
    egress: options.egress,
    ...(options.dynamic ? { dynamic: options.dynamic } : {}),
  });
  const yoga = createGraphQLServer({
    db: options.db,
    services,
    logger: options.logger,
    secureCookie: options.secureCookie,
    metrics,
  });
  return { deps, services, yoga, metrics, transit };
}
