import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics (prom-client), one registry per app instance so tests and several
 * apps in one process do not share counters. Labels never carry ids, names or values.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: "coffer_" });
  const latency = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  return {
    registry,
    httpRequests: new Counter({
      name: "coffer_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    graphqlOperations: new Histogram({
      name: "coffer_graphql_operation_duration_seconds",
      help: "GraphQL operations by name and outcome (ok, error)",
      labelNames: ["operation", "outcome"],
      buckets: latency,
      registers: [registry],
    }),
    resolutions: new Counter({
      name: "coffer_resolutions_total",
      help: "resolveSecrets calls by outcome (ok or an error code)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    resolvedValues: new Counter({
      name: "coffer_resolved_values_total",
      help: "Values handed out by resolveSecrets",
      registers: [registry],
    }),
    transitDuration: new Histogram({
      name: "coffer_transit_request_duration_seconds",
      help: "Transit engine calls by operation",
      labelNames: ["operation"],
      buckets: latency,
      registers: [registry],
    }),
    transitErrors: new Counter({
      name: "coffer_transit_errors_total",
      help: "Failed transit engine calls by operation and error code",
      labelNames: ["operation", "code"],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "coffer_rate_limited_total",
      help: "Requests refused by a rate limit",
      labelNames: ["limit"],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
