import { randomUUID } from "node:crypto";
import { useGraphQlJit } from "@envelop/graphql-jit";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { Kind, type DocumentNode, type GraphQLError, type ValidationContext } from "graphql";
import { createGraphQLError, createYoga, type Plugin } from "graphql-yoga";
import type { Services } from "../app/createServices.ts";
import type { Actor } from "../authz/Actor.ts";
import type { Db } from "../db/database.ts";
import { AppError } from "../errors/AppError.ts";
import { DatabaseUnavailableError, isConnectionLost } from "../errors/DatabaseUnavailableError.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { Context } from "./context.ts";
import { useInputDepthLimit } from "./inputDepth.ts";
import { withoutInputValues } from "./inputErrorMessage.ts";
import { MAX_QUERY_COST, useQueryCost } from "./queryCost.ts";
import { isResolutionOnly } from "./resolutionOnly.ts";
import { schema } from "./schema.ts";
import { useStrictUtf8Body } from "./strictUtf8Body.ts";

export type GraphQLServerOptions = {
  db: Db;
  services: Services;
  logger: Logger;
  secureCookie: boolean;
  metrics: Pick<Metrics, "graphqlOperations">;
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_REQUEST_BODY_BYTES = 2 * 1024 * 1024;
/** What a connection returns when `first` is null: the audit log's page (others use 20). */
const LARGEST_DEFAULT_PAGE = 50;

/**
 * graphql-armor throws its refusals out of validation, which leaves them without a code
 * and answered 200 whatever the client accepts; reported as validation errors instead, they
 * get GRAPHQL_VALIDATION_FAILED and a 400 for `application/graphql-response+json`.
 */
const reported = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => context?.reportError(error),
  ],
};

export function sessionCookieName(secure: boolean): string {
  // The __Host- prefix pins the cookie to this origin (no Domain, Path=/, Secure).
  return secure ? "__Host-coffer_session" : "coffer_session";
}

/** Binds a single sign-on in progress to the browser that started it (sso/ssoService.ts). */
export function ssoCookieName(secure: boolean): string {
  return secure ? "__Host-coffer_sso" : "coffer_sso";
}

export function createGraphQLServer(options: GraphQLServerOptions) {
  const { db, services, logger, secureCookie, metrics } = options;
  const cookieName = sessionCookieName(secureCookie);
  const ssoCookie = ssoCookieName(secureCookie);
  /** Every cookie Coffer sets: httpOnly, SameSite=Strict, the whole origin, Secure in production. */
  const cookie = (name: string, value: string, lifetime: string) =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; ${lifetime}${secureCookie ? "; Secure" : ""}`;
  const pendingCookies = new WeakMap<Request, string[]>();

  const setCookiePlugin: Plugin = {
    onResponse({ request, response }) {
      for (const cookie of pendingCookies.get(request) ?? [])
        response.headers.append("Set-Cookie", cookie);
    },
  };

  return createYoga<{ requestId?: string; ip?: string }, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    // Yoga logs a few debug lines per request: format them only when someone listens.
    logging: {
      debug: (...args) =>
        logger.isLevelEnabled("debug") && logger.debug({ args: args.map(String) }, "yoga"),
      info: (...args) => logger.info({ args: args.map(String) }, "yoga"),
      warn: (...args) => logger.warn({ args: args.map(String) }, "yoga"),
      // Execution errors are either expected (typed) or logged by maskError below. What Yoga
      // passes here is the original error: its message may quote an input value and its
      // string form the query text, so only the message with values cut out is kept.
      error: (...args) =>
        logger.isLevelEnabled("debug") &&
        logger.debug(
          {
            args: args.map((a) => withoutInputValues(a instanceof Error ? a.message : String(a))),
          },
          "yoga",
        ),
    },
    maskedErrors: {
      isDev: false,
      maskError(error, message) {
        // Execution wraps resolver errors in (possibly nested) GraphQLErrors: unwrap to the cause.
        let original: unknown = error;
        while (isGraphQLError(original) && original.originalError)
          original = original.originalError;
        // Errors are built with Yoga's own graphql-js copy (createGraphQLError), so that Yoga
        // recognises them and answers with their status rather than 500 (see isGraphQLError).
        // A connection lost outside a command's transaction (an access check, a read): as
        // retryable as one lost inside it, and answered the same way.
        if (!(original instanceof AppError) && isConnectionLost(original))
          original = new DatabaseUnavailableError();
        if (original instanceof AppError) {
          return createGraphQLError(original.message, { extensions: { code: original.code } });
        }
        // Ours (authorization) carry a code; graphql's own (syntax, validation) are safe as they are.
        if (isGraphQLError(original)) {
          const message = withoutInputValues(original.message);
          // Yoga attaches the JSON parser's own message, which quotes the body around the
          // error: drop it, and keep the 400 that its presence used to bring.
          const { originalError: parserError, ...extensions } = original.extensions ?? {};
          if (message === original.message && parserError === undefined) return original;
          return createGraphQLError(message, {
            ...(original.path ? { path: original.path } : {}),
            extensions:
              parserError !== undefined
                ? { ...extensions, http: { status: 400 } }
                : // A value was cut out: this is an input coercion failure, the caller's to fix.
                  { code: "BAD_USER_INPUT", http: { status: 400, spec: true }, ...extensions },
          });
        }
        const failure = original instanceof Error ? original : new Error(String(original));
        logger.error(
          { err: { name: failure.name, message: failure.message, stack: failure.stack } },
          "unexpected error in a resolver",
        );
        return createGraphQLError(message, { extensions: { code: "INTERNAL_SERVER_ERROR" } });
      },
    },
    // Bodies beyond this are refused with 413 before they are parsed (Yoga's default is
    // 25 MB): a secret holds at most 256 KiB, and an action's arguments are far smaller.
    maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
    plugins: [
      useStrictUtf8Body(),
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ...reported },
        maxAliases: { n: 15, ...reported },
        maxTokens: { n: 3000 },
        maxDirectives: { n: 20, ...reported },
        // Replaced by useQueryCost, which also counts page sizes given in variables.
        costLimit: { enabled: false },
        blockFieldSuggestion: { enabled: true },
      }),
      useQueryCost({ maxCost: MAX_QUERY_COST, defaultPageSize: LARGEST_DEFAULT_PAGE }),
      useInputDepthLimit({ maxDepth: 64 }),
      setCookiePlugin,
      operationMetrics(metrics),
      // Known documents (a platform sends the same resolution again and again) run through
      // a compiled executor, cached per document text; the schema, validation and limits
      // above are unchanged.
      useGraphQlJit(),
    ],
    context: async ({ request, params, requestId, ip }): Promise<Context> => {
      const cookies: string[] = [];
      pendingCookies.set(request, cookies);
      const userAgent = request.headers.get("user-agent") ?? undefined;
      return {
        // No params when /audit/export borrows this context: a cached token is never used there.
        actor: await authenticate(
          request,
          isResolutionOnly((params as typeof params | undefined)?.query),
        ),
        requestId: requestId ?? headerRequestId(request) ?? randomUUID(),
        request: { ...(ip ? { ip } : {}), ...(userAgent ? { userAgent } : {}) },
        db,
        services,
        sessionCookie: {
          set: (token, expiresAt) =>
            cookies.push(cookie(cookieName, token, `Expires=${expiresAt.toUTCString()}`)),
          clear: () => cookies.push(cookie(cookieName, "", "Max-Age=0")),
        },
        // Read only from same-origin requests: the callback page completes the sign-in with one.
        ssoBrowser: {
          read: () =>
            crossSiteSafe(request)
              ? readCookie(request.headers.get("cookie"), ssoCookie)
              : undefined,
          set: (value, maxAgeSeconds) =>
            cookies.push(cookie(ssoCookie, value, `Max-Age=${maxAgeSeconds}`)),
          clear: () => cookies.push(cookie(ssoCookie, "", "Max-Age=0")),
        },
      };
    },
  });

  async function authenticate(request: Request, cached: boolean): Promise<Actor | null> {
    const authorization = request.headers.get("authorization");
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      return match ? services.apiTokens.authenticate(match[1]!, { cached }) : null;
    }
    const session = readCookie(request.headers.get("cookie"), cookieName);
    if (!session || !crossSiteSafe(request)) return null;
    return services.sessions.authenticate(session);
  }
}

/**
 * By name, not instanceof: graphql ships CommonJS and ESM builds, and a process can hold
 * both (the dual-package hazard), so a GraphQLError may come from the other copy.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === "GraphQLError";
}

/**
 * Duration and outcome per operation, labelled by its root fields (bounded by the schema;
 * client-chosen operation names would let anyone create series).
 */
function operationMetrics(metrics: Pick<Metrics, "graphqlOperations">): Plugin {
  return {
    onExecute({ args }) {
      const operation = (args.document as DocumentNode).definitions.find(
        (d) => d.kind === Kind.OPERATION_DEFINITION,
      );
      const fields =
        operation?.kind === Kind.OPERATION_DEFINITION
          ? operation.selectionSet.selections
              .flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []))
              .sort()
              .join(",")
          : "unknown";
      const end = metrics.graphqlOperations.startTimer({
        operation: `${operation?.kind === Kind.OPERATION_DEFINITION ? operation.operation : "unknown"}:${fields || "fragment"}`,
      });
      return {
        onExecuteDone({ result }) {
          end({ outcome: "errors" in result && result.errors?.length ? "error" : "ok" });
        },
      };
    },
  };
}

function headerRequestId(request: Request): string | undefined {
  const id = request.headers.get("x-request-id");
  return id && REQUEST_ID.test(id) ? id : undefined;
}

function readCookie(header: string | null, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/**
 * Cookies authenticate only requests a page of ours could have made: SameSite=Strict
 * keeps them off cross-site requests in browsers, and we also refuse a foreign Origin
 * and POSTs that are not JSON (which a cross-site form cannot send without preflight).
 */
function crossSiteSafe(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (origin) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return false;
    }
    if (originHost !== (request.headers.get("host") ?? new URL(request.url).host)) return false;
  }
  if (request.method === "POST") {
    const type = request.headers.get("content-type") ?? "";
    return (
      type.startsWith("application/json") || type.startsWith("application/graphql-response+json")
    );
  }
  return true;
}
