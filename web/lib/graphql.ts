/**
 * The console's GraphQL client: a typed `fetch` to the same-origin `/graphql`.
 *
 * The session cookie is httpOnly and SameSite=Strict, and the server accepts it only on
 * same-origin JSON POSTs, so every request here is exactly that. Nothing in this file (or
 * anywhere in the console) reads configuration or secrets: the bundle holds none.
 */
import type { ApiError, Document, Result } from "./document.ts";

/** Codes the server puts in `errors[].extensions.code` for failures outside the typed unions. */
export type RequestErrorCode =
  "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "NETWORK" | "SERVER" | "INVALID_RESPONSE";

export class RequestError extends Error {
  override name = "RequestError";
  constructor(
    readonly code: RequestErrorCode | string,
    message: string,
  ) {
    super(message);
  }
}

type GraphQLResponse<TData> = {
  data?: TData | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

export async function request<TData, TVariables>(
  document: Document<TData, TVariables>,
  // Operations without variables take none; the others must be given theirs.
  ...[variables]: Record<string, never> extends TVariables ? [TVariables?] : [TVariables]
): Promise<TData> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: document, variables: variables ?? {} }),
      cache: "no-store",
    });
  } catch {
    throw new RequestError(
      "NETWORK",
      "Coffer could not be reached. Check your connection and try again.",
    );
  }
  let body: GraphQLResponse<TData>;
  try {
    body = (await response.json()) as GraphQLResponse<TData>;
  } catch {
    throw new RequestError(
      response.status >= 500 ? "SERVER" : "INVALID_RESPONSE",
      `Coffer answered with an unexpected response (HTTP ${response.status}). Try again in a moment.`,
    );
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? "SERVER";
    throw new RequestError(code, describe(code, first.message));
  }
  if (!body.data)
    throw new RequestError("INVALID_RESPONSE", "Coffer answered without data. Try again.");
  return body.data;
}

function describe(code: string, message: string): string {
  switch (code) {
    case "UNAUTHENTICATED":
      return "Your session has ended. Sign in again.";
    case "INTERNAL_SERVER_ERROR":
      return "Something went wrong on the server. Try again; if it keeps happening, the server log has the details.";
    default:
      return message;
  }
}

/** The data of a successful result, or the typed error it carried. */
export function unwrap<TData>(
  result: Result<TData>,
): { ok: true; data: TData } | { ok: false; error: ApiError } {
  if (result.__typename.endsWith("Success") && result.data !== undefined)
    return { ok: true, data: result.data };
  return {
    ok: false,
    error: {
      __typename: result.__typename,
      code: result.code ?? "UNKNOWN",
      message: result.message ?? "The request failed.",
      ...(result.issues ? { issues: result.issues } : {}),
    },
  };
}
