import { ValidationError } from "../errors/ValidationError.ts";

/**
 * Seed 001: a custom provider's id is `custom_` + the slug of its name (lowercase, runs
 * of anything but letters and digits → `_`, trimmed). "My Custom App" → custom_my_custom_app.
 * Collisions get `_2`, `_3`, …; `custom_mcp_` is reserved for MCP integrations.
 */
export function customProviderId(name: string, taken: ReadonlySet<string>): string {
  const slug = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!slug)
    throw ValidationError.fromIssues([
      { path: "name", message: "needs at least one letter or digit" },
    ]);
  const base = `custom_${slug}`.slice(0, 60).replace(/_+$/, "");
  if (base.startsWith("custom_mcp_") || base === "custom_mcp") {
    throw ValidationError.fromIssues([
      { path: "name", message: "the custom_mcp_ prefix is reserved for MCP integrations" },
    ]);
  }
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}_${n}`)) return `${base}_${n}`;
}

/** `microsoft_teams` → the `microsoft_teams_oauth` secret with keys MICROSOFT_TEAMS_USER_TOKEN / _SERVICE_TOKEN. */
export const oauthSecretName = (providerId: string) => `${providerId}_oauth`;
export const oauthTokenKey = (providerId: string, kind: "USER" | "SERVICE") =>
  `${providerId.toUpperCase()}_${kind}_TOKEN`;

/** The provider and token kind an `<id>_oauth.<ID>_USER_TOKEN` reference names, or null. */
export function parseOAuthRef(
  name: string,
  key: string,
): { providerId: string; kind: "USER" | "SERVICE" } | null {
  const match = /^([a-z0-9_]+)_oauth$/.exec(name);
  if (!match) return null;
  const providerId = match[1]!;
  for (const kind of ["USER", "SERVICE"] as const)
    if (key === oauthTokenKey(providerId, kind)) return { providerId, kind };
  return { providerId, kind: key.endsWith("_SERVICE_TOKEN") ? "SERVICE" : "USER" };
}
