import { callbackPage } from "./callbackPage.ts";

/**
 * The page the OAuth provider redirects the browser to: it completes the flow with a
 * same-origin request (which carries the session cookie), and the server checks that the
 * state belongs to this very session.
 */
export const OAUTH_CALLBACK_PATH = "/oauth/callback";

export function oauthCallbackPage(): string {
  return callbackPage({
    title: "Connecting…",
    heading: "Connecting your account…",
    waiting: "Finishing the connection.",
    mutation:
      "mutation($q: String!) { completeOAuthAuthorization(callbackQuery: $q) { __typename ... on Error { message } ... on MutationCompleteOAuthAuthorizationSuccess { data { providerId environment } } } }",
    field: "completeOAuthAuthorization",
    onSuccess: `status.textContent = "Connected " + data.providerId + " (" + data.environment + "). You can close this page.";`,
    failed: "The connection could not be completed; sign in and start again.",
  });
}
