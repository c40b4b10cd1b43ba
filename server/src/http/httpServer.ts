import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import {
  AUDIT_EXPORT_PATH,
  serveAuditExport,
  type RequestContextSource,
} from "../audit/exportRoute.ts";
import type { Db } from "../db/database.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../ops/metrics.ts";
import { clientAddress, trustedProxies } from "./clientAddress.ts";
import { OAUTH_CALLBACK_PATH, oauthCallbackPage } from "./oauthCallbackPage.ts";
import { SSO_CALLBACK_PATH, ssoCallbackPage } from "./ssoCallbackPage.ts";

type YogaLike = RequestContextSource & {
  handle: (
    req: IncomingMessage,
    res: ServerResponse,
    ctx: { requestId: string; ip?: string },
  ) => unknown;
};
type ConsoleLike = { handle(req: IncomingMessage, res: ServerResponse): void };

const API_PATHS = new Set(["/graphql"]);
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * One origin for the API and the console, so the console's session cookie can be
 * SameSite=Strict: `/graphql`, `/healthz`, `/readyz` here, everything else to Next.js.
 */
export function createHttpServer(options: {
  /** Absent on a worker (COFFER_ROLE=worker): health and metrics only, every API path 404. */
  yoga?: YogaLike | undefined;
  db: Db;
  logger: Logger;
  console?: ConsoleLike | undefined;
  /** Served at /metrics (Prometheus text format) when given. */
  metrics?: Pick<Metrics, "registry" | "httpRequests"> | undefined;
  /** TRUSTED_PROXIES: peers whose X-Forwarded-For names the client (see clientAddress). */
  trustedProxies?: readonly string[] | undefined;
}) {
  const { yoga, db, logger, metrics } = options;
  const trusted = options.trustedProxies?.length
    ? trustedProxies(options.trustedProxies)
    : undefined;
  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader("x-request-id", requestId);
    const path = (req.url ?? "/").split("?")[0]!;
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      metrics?.httpRequests.inc({ route: routeOf(path), status: String(res.statusCode) });
      logger.info(
        {
          requestId,
          method: req.method,
          path,
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        "request",
      );
    });

    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/metrics" && metrics) {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, {
            "content-type": metrics.registry.contentType,
            "cache-control": "no-store",
          });
          res.end(text);
        },
        () => json(res, 500, { error: "metrics unavailable" }),
      );
      return;
    }
    if (path === "/readyz") {
      db.$queryRaw`SELECT 1`.then(
        () => json(res, 200, { status: "ready" }),
        () => json(res, 503, { status: "database unavailable" }),
      );
      return;
    }
    if (!yoga) return json(res, 404, { error: "not found" });
    if ((path === OAUTH_CALLBACK_PATH || path === SSO_CALLBACK_PATH) && req.method === "GET") {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "content-security-policy":
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      });
      res.end(path === SSO_CALLBACK_PATH ? ssoCallbackPage() : oauthCallbackPage());
      return;
    }
    if (path === AUDIT_EXPORT_PATH) {
      const ip = clientAddress(req, trusted);
      void serveAuditExport(req, res, { yoga, logger, requestId, ...(ip ? { ip } : {}) });
      return;
    }
    if (API_PATHS.has(path)) {
      const ip = clientAddress(req, trusted);
      void yoga.handle(req, res, { requestId, ...(ip ? { ip } : {}) });
      return;
    }
    if (options.console) return options.console.handle(req, res);
    json(res, 404, { error: "not found" });
  });
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** A bounded route label for metrics: the API's own paths, everything else is the console. */
function routeOf(path: string): string {
  return [
    "/graphql",
    "/healthz",
    "/readyz",
    "/metrics",
    "/oauth/callback",
    "/audit/export",
  ].includes(path)
    ? path
    : "console";
}
