import { createHash } from "node:crypto";

/** What STS accepts as a RoleSessionName (AssumeRole API reference). */
export const STS_SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;

const PREFIX = "coffer";
const MAX_LENGTH = 64;
const HASH_LENGTH = 12;

/**
 * The RoleSessionName Coffer uses for a resolution: `coffer-<workspace>-<run>`. It shows up
 * in the customer's CloudTrail as the session of the assumed role, so it names the
 * workspace (first 8 characters of its id) and the run. A run id that is too long or holds
 * characters STS refuses keeps a readable prefix and gains a short hash of the original id,
 * so two distinct runs never share a session name because of truncation or sanitising.
 */
export function stsSessionName(workspaceId: string, runId?: string): string {
  const workspace = sanitize(workspaceId).slice(0, 8);
  const base = workspace ? `${PREFIX}-${workspace}` : PREFIX;
  if (runId === undefined || runId === "") return base;

  const room = MAX_LENGTH - base.length - 1;
  const run = sanitize(runId);
  if (run === runId && run.length <= room) return `${base}-${run}`;

  const hash = createHash("sha256").update(runId).digest("hex").slice(0, HASH_LENGTH);
  const readable = run.slice(0, room - HASH_LENGTH - 1).replace(/-+$/, "");
  return readable ? `${base}-${readable}-${hash}` : `${base}-${hash}`;
}

function sanitize(value: string): string {
  return value.replace(/[^\w+=,.@-]+/g, "-");
}
