import { randomUUID } from "node:crypto";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError, Kind, type DocumentNode } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import type { Services } from "../app/createServices.ts";
import type { Actor } from "../authz/Actor.ts";
import type { Db } from "../db/database.ts";
import { AppError } from "../errors/AppError.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { Context } from "./context.ts";
import { withoutInputValues } from "./inputErrorMessage.ts";
import { schema } from "./schema.ts";

export type GraphQLServerOptions = {
  db: Db;
  services: Services;
  logger: Logger;
  secureCookie: boolean;
  metrics: Pick<Metrics, "graphqlOperations">;
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function sessionCookieName(secure: boolean): string {
  // The __Host- prefix pins the cookie to this origin (no Domain, Path=/, Secure).
  return secure ? "__Host-coffer_session" : "coffer_session";
}

export function createGraphQLServer(options: GraphQLServerOptions) {
  const { db, services, logger, secureCookie, metrics } = options;
  const cookieName = sessionCookieName(secureCookie);
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
      // Execution errors are either expected (typed) or logged by maskError below.
      error: (...args) =>
        logger.isLevelEnabled("debug") && logger.debug({ args: args.map(String) }, "yoga"),
    },
    maskedErrors: {
      isDev: false,
      maskError(error, message) {
        // Execution wraps resolver errors in (possibly nested) GraphQLErrors: unwrap to the cause.
        let original: unknown = error;
        while (isGraphQLError(original) && original.originalError)
          original = original.originalError;
        if (original instanceof AppError) {
          return new GraphQLError(original.message, { extensions: { code: original.code } });
        }
        // Ours (authorization) carry a code; graphql's own (syntax, validation) are safe as they are.
        if (isGraphQLError(original)) {
          const message = withoutInputValues(original.message);
          return message === original.message
            ? original
            : new GraphQLError(message, {
                ...(original.path ? { path: original.path } : {}),
                extensions: original.extensions,
              });
        }
        const failure = original instanceof Error ? original : new Error(String(original));
        logger.error(
          { err: { name: failure.name, message: failure.message, stack: failure.stack } },
          "unexpected error in a resolver",
        );
        return new GraphQLError(message, { extensions: { code: "INTERNAL_SERVER_ERROR" } });
      },
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 12 },
        maxAliases: { n: 15 },
        maxTokens: { n: 3000 },
        maxDirectives: { n: 20 },
        costLimit: { maxCost: 5000 },
        blockFieldSuggestion: { enabled: true },
      }),
      setCookiePlugin,
      operationMetrics(metrics),
    ],
    context: async ({ request, requestId, ip }): Promise<Context> => {
      const cookies: string[] = [];
      pendingCookies.set(request, cookies);
      const userAgent = request.headers.get("user-agent") ?? undefined;
      return {
        actor: await authenticate(request),
        requestId: requestId ?? headerRequestId(request) ?? randomUUID(),
        request: { ...(ip ? { ip } : {}), ...(userAgent ? { userAgent } : {}) },
        db,
        services,
        sessionCookie: {
          set: (token, expiresAt) =>
            cookies.push(
              `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict; Expires=${expiresAt.toUTCString()}${secureCookie ? "; Secure" : ""}`,
            ),
          clear: () =>
            cookies.push(
              `${cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secureCookie ? "; Secure" : ""}`,
            ),
        },
      };
    },
  });

  async function authenticate(request: Request): Promise<Actor | null> {
    const authorization = request.headers.get("authorization");
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      return match ? services.apiTokens.authenticate(match[1]!) : null;
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
