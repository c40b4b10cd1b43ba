/**
 * The page a third party (an OAuth provider, an identity provider) redirects the browser
 * back to. Our cookies are SameSite=Strict, so they are not sent on that cross-site
 * redirect; the page therefore takes the query out of the address bar and finishes with a
 * same-origin GraphQL request (which carries them). The page holds no secret.
 */
export function callbackPage(page: {
  title: string;
  heading: string;
  waiting: string;
  /** A mutation of one `$q: String!` argument, the callback's query string. */
  mutation: string;
  field: string;
  /** JavaScript run with `data` (the success payload) and `status` (the status element). */
  onSuccess: string;
  failed: string;
}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>${page.title} · Coffer</title>
<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:32rem;color:#1f2933}p.error{color:#b42318}</style>
</head><body><h1>${page.heading}</h1><p id="status" role="status">${page.waiting}</p>
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
      body: JSON.stringify({ query: ${JSON.stringify(page.mutation)}, variables: { q: query } }),
    });
    const result = (await response.json()).data?.${page.field};
    if (result && result.data) {
      const data = result.data;
      ${page.onSuccess}
    } else {
      status.className = "error";
      status.textContent = (result && result.message) || ${JSON.stringify(page.failed)};
    }
  } catch {
    status.className = "error";
    status.textContent = ${JSON.stringify(page.failed.replace(/; .*$/, "; try again."))};
  }
})();
</script></body></html>`;
}
