// A tiny typed client for platforms that run actions with Coffer's secrets. The operations live
// in client/operations.graphql; their types and documents are generated into
// client/generated/graphql.ts (`npm run client:generate`).
//
//   const coffer = createCofferClient({ endpoint: "https://coffer.example/graphql", token });
//   const result = await coffer.resolve({ arguments: { token: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}" } });
//   if (result.__typename === "MutationResolveSecretsSuccess") use(result.data.arguments);
//   else console.warn(result.code, result.message);
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { getOperationAST, print } from "graphql";
import {
  CheckSecretsDocument,
  ResolveSecretsDocument,
  ViewerDocument,
  type CheckSecretsInput,
  type CheckSecretsQuery,
  type ResolveSecretsInput,
  type ResolveSecretsMutation,
  type ViewerQuery,
} from "./generated/graphql.ts";

export type { CheckSecretsInput, ResolveSecretsInput } from "./generated/graphql.ts";

/** One entry per action: is every credential it needs there? */
export type SecretsCheck = CheckSecretsQuery["checkSecrets"][number];
/** The resolved arguments and values, or one of the typed errors: switch on `__typename`. */
export type ResolveSecretsResult = ResolveSecretsMutation["resolveSecrets"];
export type ResolveSecretsSuccess = Extract<
  ResolveSecretsResult,
  { __typename: "MutationResolveSecretsSuccess" }
>;
/** Every typed error `resolveSecrets` returns; each has `message` and `code`. */
export type ResolveSecretsError = Exclude<ResolveSecretsResult, ResolveSecretsSuccess>;
export type Viewer = ViewerQuery["viewer"];

/** The subset of `fetch` the client uses (the global one fits; so does `yoga.fetch`). */
export type CofferFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export type CofferClientOptions = {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  endpoint: string;
  /** An API token (`coffer_pat_…`); resolving needs the `secrets:resolve` permission */
  token: string;
  fetch?: CofferFetch;
};

export type CofferClient = {
  /** Before a run: which credentials each action needs and which are missing. */
  check(input: CheckSecretsInput): Promise<SecretsCheck[]>;
  /** When an action runs: its arguments with the values substituted, or a typed error. */
  resolve(input: ResolveSecretsInput): Promise<ResolveSecretsResult>;
  /** Who the token is and which permissions it carries. */
  viewer(): Promise<Viewer>;
  /** Any other typed operation. */
  request<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult>;
};

/** A transport failure or top-level GraphQL errors (not the typed errors of a result union). */
export class CofferRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly errors: readonly { message: string }[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CofferRequestError";
  }
}

type GraphQLResponse<T> = { data?: T | null; errors?: { message: string }[] };

export function createCofferClient(options: CofferClientOptions): CofferClient {
  const doFetch: CofferFetch = options.fetch ?? fetch;

  async function request<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const operationName = getOperationAST(document)?.name?.value;
    let response: Awaited<ReturnType<CofferFetch>>;
    try {
      response = await doFetch(options.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          authorization: `Bearer ${options.token}`,
        },
        body: JSON.stringify({ query: print(document), operationName, variables }),
      });
    } catch (error) {
      throw new CofferRequestError(
        `Coffer request failed: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        [],
        { cause: error },
      );
    }
    let body: GraphQLResponse<TResult> | undefined;
    try {
      body = (await response.json()) as GraphQLResponse<TResult>;
    } catch {
      body = undefined;
    }
    if (body?.errors?.length) {
      throw new CofferRequestError(
        body.errors.map((e) => e.message).join("; "),
        response.status,
        body.errors,
      );
    }
    if (!response.ok || !body?.data) {
      throw new CofferRequestError(
        `Coffer request failed: HTTP ${response.status}${body ? " without data" : ""}`,
        response.status,
      );
    }
    return body.data;
  }

  return {
    request,
    check: async (input) => (await request(CheckSecretsDocument, { input })).checkSecrets,
    resolve: async (input) => (await request(ResolveSecretsDocument, { input })).resolveSecrets,
    viewer: async () => (await request(ViewerDocument, {})).viewer,
  };
}
