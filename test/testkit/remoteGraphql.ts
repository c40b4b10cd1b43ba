import { until } from "./until.ts";

/** A GraphQL answer from a running process, with the HTTP response for its headers. */
export type RemoteResult = { response: Response; body: { data: any; errors?: unknown[] } };

/** POSTs one operation to `${origin}/graphql`, as a session (cookie) or an API token. */
export async function graphqlAt(
  origin: string,
  query: string,
  variables: object = {},
  auth: { cookie?: string; token?: string } = {},
): Promise<RemoteResult> {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
      ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { response, body: (await response.json()) as RemoteResult["body"] };
}

/**
 * Signs in and returns the session cookie. Retries while the sign-in fails: a replica
 * logs "Coffer is ready" before it has created the first-run owner.
 */
export async function signInAt(
  origin: string,
  credentials: { email: string; password: string },
  output: () => string = () => "",
): Promise<{ cookie: string }> {
  let cookie = "";
  await until(
    async () => {
      const { response, body } = await graphqlAt(
        origin,
        `
          mutation ($i: SignInInput!) {
            signIn(input: $i) {
              __typename
            }
          }
        `,
        { i: credentials },
      );
      if (body.data?.signIn?.__typename !== "MutationSignInSuccess") return false;
      cookie = response.headers.get("set-cookie")!.split(";")[0]!;
      return true;
    },
    () => `${credentials.email} could not sign in at ${origin}:\n${output()}`,
  );
  return { cookie };
}
