import type { ExportSince } from "./exportEvents.ts";

const MAX_POSITION = 9_223_372_036_854_775_807n; // PostgreSQL bigint
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `since` as the CLI and the HTTP endpoint take it: digits are a position (export the
 * events after it); anything else must be an ISO 8601 date or a date-time with a zone
 * (`2026-11-26`, `2026-11-26T09:30:00Z`, `…+01:00`), never a local time whose meaning
 * would depend on the machine. Null when it is neither.
 */
export function parseSince(text: string): ExportSince | null {
  if (/^\d{1,19}$/.test(text)) {
    const position = BigInt(text);
    return position <= MAX_POSITION ? { afterPosition: position } : null;
  }
  const match = ISO_TIME.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Date.parse rolls 2026-02-30 over to March: refuse days the month does not have.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : { from: new Date(ms) };
}
