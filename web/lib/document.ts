/**
 * Typed GraphQL documents. This module has no imports and no DOM types, so the browser
 * test (outside the web project) can load the console's operations and validate them
 * against `schema.graphql`.
 */

/** A GraphQL document whose result and variables types ride along with the string. */
export type Document<TData, TVariables> = string & {
  readonly __result?: TData;
  readonly __variables?: TVariables;
};

export function gql<TData, TVariables = Record<string, never>>(
  source: string,
): Document<TData, TVariables> {
  return source as Document<TData, TVariables>;
}

/** The members every typed error of the API shares (`... on Error { code message }`). */
export type ApiError = {
  __typename: string;
  code: string;
  message: string;
  issues?: { path: string; message: string }[];
};

/** A mutation's union result: `{ __typename: "...Success", data }` or an `Error`. */
export type Result<TData> = {
  __typename: string;
  data?: TData;
  code?: string;
  message?: string;
  issues?: { path: string; message: string }[];
};
