import { createHash } from "node:crypto";
import { canonicalJson } from "../canonicalJson.ts";
import type { StoredEvent } from "./types.ts";

export const GENESIS_HASH = "0".repeat(64);

/**
 * SHA-256 over the RFC 8785 canonical JSON of every stored field but the hash itself.
 * The previous hash is inside, so changing or removing any earlier event of the
 * organization breaks every later link.
 */
export function eventHash(event: Omit<StoredEvent, "hash">): string {
  return createHash("sha256").update(hashedText(event), "utf8").digest("hex");
}

function hashedText(event: Parameters<typeof hashedRecord>[0]): string {
  return canonicalJson(hashedRecord(event));
}

/**
 * The record that is hashed (and, with its hash, exported: audit/exportEvents.ts): every
 * stored field but the hash, position as a decimal string and time as ISO 8601.
 */
export function hashedRecord(
  event: Omit<StoredEvent, "hash" | "position" | "streamVersion"> & {
    position: bigint | string;
    streamVersion: number | string;
  },
) {
  return {
    position: event.position.toString(),
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    organizationId: event.organizationId,
    occurredAt: event.occurredAt.toISOString(),
    prevHash: event.prevHash,
  };
}

/**
 * The hashed text of an event whose position, previous hash and stream version are not
 * known yet (the database assigns them under the chain lock, in coffer_append_events):
 * the four pieces around those three values, in the order canonical JSON puts them
 * (keys sorted: position, prevHash, streamVersion), built without encoding the event twice. Joined as
 * `parts[0] + position + parts[1] + prevHash + parts[2] + streamVersion + parts[3]`,
 * they are exactly the text eventHash hashes.
 */
export function eventHashParts(
  event: Omit<StoredEvent, "hash" | "position" | "prevHash" | "streamVersion">,
): [string, string, string, string] {
  const [data, metadata, ...rest] = eventHashPieces(event);
  return [`{"data":${data},"metadata":${metadata}${rest[0]}`, `","prevHash":"`, rest[1], rest[2]];
}

/**
 * The same text in the pieces coffer_append_batch takes: the canonical data and metadata
 * (sent once, stored as jsonb and hashed as sent) and the three short pieces around the
 * position, `","prevHash":"` + previous hash, and the stream version.
 */
export function eventHashPieces(
  event: Omit<StoredEvent, "hash" | "position" | "prevHash" | "streamVersion">,
): [string, string, string, string, string] {
  // hashedRecord's keys in RFC 8785 order (all ASCII, so sorted by code unit); each value
  // encoded as canonicalJson encodes it. test/hashChain.unit.test.ts holds the joined text
  // equal to hashedText, and every verifier recomputes the whole text.
  return [
    canonicalJson(event.data),
    canonicalJson(event.metadata),
    `,"occurredAt":${canonicalJson(event.occurredAt.toISOString())},` +
      `"organizationId":${canonicalJson(event.organizationId)},"position":"`,
    `","schemaVersion":${canonicalJson(event.schemaVersion)},"streamId":${canonicalJson(event.streamId)},"streamVersion":`,
    `,"type":${canonicalJson(event.type)}}`,
  ];
}
