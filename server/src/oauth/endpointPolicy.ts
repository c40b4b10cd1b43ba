import { ValidationError } from "../errors/ValidationError.ts";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** OAuth endpoints must be HTTPS; plain http only on loopback, and only when configured. */
export function checkEndpoint(field: string, value: string, allowLoopbackHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ValidationError.fromIssues([{ path: field, message: "must be an absolute URL" }]);
  }
  const loopbackHttp = url.protocol === "http:" && LOOPBACK.has(url.hostname) && allowLoopbackHttp;
  if (url.protocol !== "https:" && !loopbackHttp) {
    throw ValidationError.fromIssues([
      {
        path: field,
        message:
          "must use https (http is accepted only on loopback, and only when OAUTH_ALLOW_LOOPBACK_HTTP is set)",
      },
    ]);
  }
  if (url.username || url.password || url.hash)
    throw ValidationError.fromIssues([
      { path: field, message: "must not contain credentials or a fragment" },
    ]);
  return url.toString();
}

export const isLoopbackHttp = (value: string) => {
  const url = new URL(value);
  return url.protocol === "http:" && LOOPBACK.has(url.hostname);
};
