import { z } from "zod";
import { GENESIS_HASH, eventHash } from "../eventstore/hashChain.ts";
import type { EventMetadata } from "../eventstore/types.ts";

/**
 * What the first event's `prevHash` must be: the genesis hash (an export from the
 * organization's first event, the default), whatever the first line says (an export made
 * `since` a position or time, whose anchor nothing in the file can vouch for), or a hash
 * you trust, such as the head of the previous export you verified.
 */
export type ExportAnchor = "genesis" | "first-line" | { hash: string };

export type ExportFailureReason = "hash_mismatch" | "broken_link" | "unparseable";

export type ExportVerification =
  | {
      ok: true;
      /** Events verified. */
      count: number;
      /** The `prevHash` of the first event (null: an empty export anchored at its first line). */
      anchor: string | null;
      /** The last event's hash: compare it with a head you trust to detect a cut-off tail. */
      headHash: string | null;
    }
  | {
      ok: false;
      /** Events verified before the bad line. */
      count: number;
      /** 1-based line number in the input. */
      line: number;
      /** The bad event's position when its line says one, else null. */
      position: string | null;
      reason: ExportFailureReason;
      detail: string;
    };

const HASH = /^[0-9a-f]{64}$/;

// Exactly the fields of an export line: an extra field would be content the hash does not
// cover, so it is refused rather than ignored.
const exportLine = z.strictObject({
  position: z.string().regex(/^(?:0|[1-9]\d{0,18})$/, "must be a decimal position"),
  streamId: z.string(),
  streamVersion: z.number().int(),
  type: z.string(),
  schemaVersion: z.number().int(),
  data: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  organizationId: z.string().nullable(),
  occurredAt: z
    .string()
    .refine(
      (text) => !Number.isNaN(Date.parse(text)) && new Date(text).toISOString() === text,
      "must be an ISO 8601 UTC time as exported (YYYY-MM-DDTHH:mm:ss.sssZ)",
    ),
  prevHash: z.string().regex(HASH, "must be 64 lowercase hex digits"),
  hash: z.string().regex(HASH, "must be 64 lowercase hex digits"),
});

/**
 * Verifies an audit export line by line, with no I/O and constant memory: feed it lines
 * (`push`) as you read them, then ask for the `result`. Each event's hash is recomputed
 * with the event store's own encoding (eventstore/hashChain.ts) and each `prevHash` must
 * be the hash of the line before (the anchor for the first). The first bad line stops
 * verification: `broken_link` when the link fails (an event removed, inserted or
 * reordered before it), `hash_mismatch` when the content does not match its hash,
 * `unparseable` when the line is not an export record. Blank lines are skipped.
 */
export function createExportVerifier(options: { anchor?: ExportAnchor } = {}) {
  const anchorOption = options.anchor ?? "genesis";
  let expectedPrev: string | null =
    anchorOption === "genesis"
      ? GENESIS_HASH
      : anchorOption === "first-line"
        ? null
        : anchorOption.hash;
  let anchor = expectedPrev;
  let lineNumber = 0;
  let count = 0;
  let failure: Extract<ExportVerification, { ok: false }> | null = null;

  const fail = (position: string | null, reason: ExportFailureReason, detail: string): false => {
    failure = { ok: false, count, line: lineNumber, position, reason, detail };
    return false;
  };

  return {
    /** The next line, with or without its line break; false once the export is known bad. */
    push(text: string): boolean {
      if (failure) return false;
      lineNumber++;
      const line = text.replace(/\r?\n$/, "").replace(/\r$/, "");
      if (line.trim() === "") return true;

      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        return fail(null, "unparseable", "not JSON");
      }
      const claimedPosition =
        typeof raw === "object" &&
        raw !== null &&
        "position" in raw &&
        typeof raw.position === "string"
          ? raw.position
          : null;
      const parsed = exportLine.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const path = issue.path.join(".");
        return fail(
          claimedPosition,
          "unparseable",
          path ? `${path}: ${issue.message}` : issue.message,
        );
      }
      // Values come from JSON.parse itself, not from the schema's copy: a copy made by
      // assignment would turn an own "__proto__" key into a prototype and change the hash.
      const record = raw as z.infer<typeof exportLine>;
      const position = record.position;

      if (expectedPrev === null) {
        anchor = record.prevHash;
      } else if (record.prevHash !== expectedPrev) {
        return fail(
          position,
          "broken_link",
          count === 0
            ? expectedPrev === GENESIS_HASH
              ? "the first event's prevHash is not the genesis hash: the export does not start at the organization's first event (an export made with `since` is verified with the first line as anchor)"
              : "the first event's prevHash is not the expected anchor"
            : "prevHash is not the hash of the line before: an event was removed, inserted or reordered",
        );
      }
      const recomputed = eventHash({
        position: BigInt(position),
        streamId: record.streamId,
        streamVersion: record.streamVersion,
        type: record.type,
        schemaVersion: record.schemaVersion,
        data: record.data,
        metadata: record.metadata as EventMetadata,
        organizationId: record.organizationId,
        occurredAt: new Date(record.occurredAt),
        prevHash: record.prevHash,
      });
      if (recomputed !== record.hash) {
        return fail(position, "hash_mismatch", "the event's content does not match its hash");
      }
      expectedPrev = record.hash;
      count++;
      return true;
    },

    result(): ExportVerification {
      return failure ?? { ok: true, count, anchor, headHash: count > 0 ? expectedPrev : anchor };
    },
  };
}

/** Verifies a whole export: NDJSON text, or its lines. */
export function verifyExport(
  input: string | Iterable<string>,
  options: { anchor?: ExportAnchor } = {},
): ExportVerification {
  const verifier = createExportVerifier(options);
  for (const line of typeof input === "string" ? input.split("\n") : input) {
    if (!verifier.push(line)) break;
  }
  return verifier.result();
}
