/**
 * The page the OAuth provider redirects the browser to. Our session cookie is
 * SameSite=Strict, so it is not sent on that cross-site redirect; the page therefore
 * completes the flow with a same-origin request (which carries the cookie), and the
 * server checks that the state belongs to this very session. The page holds no secret:
 * the code and state stay in the address bar and go straight to our own API.
 */
export const OAUTH_CALLBACK_PATH = "/oauth/callback";

export function oauthCallbackPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Connecting… · Coffer</title>
<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:32rem;color:#1f2933}p.error{color:#b42318}</style>
</head><body><h1>Connecting your account…</h1><p id="status" role="status">Finishing the connection.</p>
<script>
(async () => {
  const status = document.getElementById("status");
  const query = location.search;
  history.replaceState(null, "", location.pathname);
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "mutation($q: String!) { completeOAuthAuthorization(callbackQuery: $q) { __typename ... on Error { message } ... on MutationCompleteOAuthAuthorizationSuccess { data { providerId environment } } } }",
        variables: { q: query },
      }),
    });
    const result = (await response.json()).data?.completeOAuthAuthorization;
    if (result && result.data) {
      status.textContent = "Connected " + result.data.providerId + " (" + result.data.environment + "). You can close this page.";
    } else {
      status.className = "error";
      status.textContent = (result && result.message) || "The connection could not be completed; sign in and start again.";
    }
  } catch {
    status.className = "error";
    status.textContent = "The connection could not be completed; try again.";
  }
})();
</script></body></html>`;
}
