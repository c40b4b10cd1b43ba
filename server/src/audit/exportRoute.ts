import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { YogaServerInstance } from "graphql-yoga";
import { requireOrgAccess, requirePermission } from "../authz/access.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import type { Context } from "../graphql/context.ts";
import { localId } from "../graphql/globalId.ts";
import type { Logger } from "../logger.ts";
import { exportEventLines, inChunks } from "./exportEvents.ts";
import { parseSince } from "./parseSince.ts";

export const AUDIT_EXPORT_PATH = "/audit/export";

/**
 * The GraphQL server, for its context factory: building a request's context runs the very
 * function that authenticates /graphql requests (bearer API token, or session cookie on
 * same-origin requests), so this route cannot drift from it.
 */
export type RequestContextSource = Pick<
  YogaServerInstance<{ requestId?: string; ip?: string }, Context>,
  "getEnveloped"
>;

/**
 * `GET /audit/export?organizationId=<global id>[&since=<position|ISO time>]`: the
 * organization's events as NDJSON (see exportEvents.ts), streamed with backpressure;
 * needs `audit:read`. Another tenant's organization answers exactly like a missing one.
 *
 * Failures known before the first byte get a status and a JSON body. A failure while
 * streaming aborts the response, so a client sees a failed transfer, never a short file
 * that looks complete. Never rejects.
 */
export async function serveAuditExport(
  req: IncomingMessage,
  res: ServerResponse,
  options: {
    yoga: RequestContextSource;
    logger: Logger;
    requestId: string;
    ip?: string;
    /** Events per database read (tests turn it down). */
    pageSize?: number;
  },
): Promise<void> {
  const { logger, requestId } = options;
  let lines: AsyncGenerator<string, void, undefined>;
  let first: IteratorResult<string, void>;
  let organizationId: string;
  try {
    if (req.method !== "GET") {
      res.setHeader("allow", "GET");
      return json(res, 405, { error: "Use GET" });
    }
    // The path and query only; the Host header stays a header (the same-origin check reads it).
    const url = new URL(req.url ?? "/", "http://localhost");
    const context = await options.yoga
      .getEnveloped({
        request: toWebRequest(req, url),
        requestId,
        ...(options.ip ? { ip: options.ip } : {}),
      })
      .contextFactory();
    const actor = context.actor;
    if (!actor) {
      res.setHeader("www-authenticate", "Bearer");
      return json(res, 401, {
        error: "Authentication required: a bearer API token or a console session",
      });
    }
    const globalId = url.searchParams.get("organizationId");
    if (!globalId) return json(res, 400, { error: "organizationId is required" });
    const sinceText = url.searchParams.get("since");
    organizationId = localId(globalId, "Organization");
    const access = await requireOrgAccess(context.db, actor, organizationId);
    requirePermission(access, "audit:read", "Exporting the audit log");
    const since = sinceText === null ? undefined : parseSince(sinceText);
    if (since === null) {
      return json(res, 400, {
        error: "since must be a position or an ISO 8601 date or date-time with a zone",
      });
    }
    lines = exportEventLines(context.db, organizationId, {
      since,
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    });
    // The first page is read before the status line, so a database failure is still a 500.
    first = await lines.next();
  } catch (error) {
    if (error instanceof NotFoundError) return json(res, 404, { error: error.message });
    if (error instanceof ForbiddenError) return json(res, 403, { error: error.message });
    logger.error({ requestId, err: errorDetails(error) }, "audit export failed");
    return json(res, 500, { error: "Internal error" });
  }

  res.writeHead(200, {
    "content-type": "application/x-ndjson",
    "content-disposition": `attachment; filename="coffer-audit-${organizationId}.ndjson"`,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  try {
    await pipeline(Readable.from(inChunks(resume(first, lines))), res);
  } catch (error) {
    // pipeline has destroyed the response (and, on a disconnect, stopped reading events).
    if ((error as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE") {
      logger.info({ requestId }, "audit export: the client went away");
    } else {
      logger.error({ requestId, err: errorDetails(error) }, "audit export aborted while streaming");
    }
  }
}

async function* resume(
  first: IteratorResult<string, void>,
  rest: AsyncGenerator<string, void, undefined>,
): AsyncGenerator<string, void, undefined> {
  if (first.done) return;
  yield first.value;
  yield* rest;
}

function toWebRequest(req: IncomingMessage, url: URL): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      headers.append(name, item);
    }
  }
  return new Request(url, { method: req.method ?? "GET", headers });
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

function errorDetails(error: unknown) {
  const failure = error instanceof Error ? error : new Error(String(error));
  return { name: failure.name, message: failure.message, stack: failure.stack };
}
