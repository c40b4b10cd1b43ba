import { SSO_CALLBACK_PATH } from "../sso/ssoService.ts";
import { callbackPage } from "./callbackPage.ts";

export { SSO_CALLBACK_PATH };

/**
 * Where an organization's identity provider sends the browser back: the page completes
 * the sign-in with a same-origin request, which carries the cookie binding this browser to
 * the sign-in it started; the answer sets the session cookie, and the page goes on to the
 * organization.
 */
export function ssoCallbackPage(): string {
  return callbackPage({
    title: "Signing in…",
    heading: "Signing you in…",
    waiting: "Checking with your identity provider.",
    mutation:
      "mutation($q: String!) { completeSingleSignOn(callbackQuery: $q) { __typename ... on Error { message } ... on MutationCompleteSingleSignOnSuccess { data { id } } } }",
    field: "completeSingleSignOn",
    onSuccess: `location.replace("/o/" + atob(data.id).split(":")[1]);`,
    failed: "The sign-in could not be completed; start again.",
  });
}
