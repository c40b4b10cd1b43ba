import { createHash, randomBytes } from "node:crypto";
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
 * (keys sorted: position, prevHash, streamVersion). Joined as
 * `parts[0] + position + parts[1] + prevHash + parts[2] + streamVersion + parts[3]`,
 * they are exactly the text eventHash hashes.
 */
export function eventHashParts(
  event: Omit<StoredEvent, "hash" | "position" | "prevHash" | "streamVersion">,
): [string, string, string, string] {
  // Markers no event contains (random), as strings: canonical JSON quotes them.
  const nonce = randomBytes(16).toString("hex");
  const [position, prevHash, streamVersion] = ["p", "h", "v"].map((k) => `${k}${nonce}`) as [
    string,
    string,
    string,
  ];
  const text = hashedText({ ...event, position, prevHash, streamVersion });
  const at = [position, prevHash, streamVersion].map((marker) => {
    const index = text.indexOf(`"${marker}"`);
    if (index < 0 || text.indexOf(`"${marker}"`, index + 1) >= 0)
      throw new Error("cannot split an event's hashed text");
    return index;
  }) as [number, number, number];
  const after = (i: 0 | 1 | 2) => at[i] + position.length + 2; // all markers are one length
  const parts: [string, string, string, string] = [
    text.slice(0, at[0] + 1), // …"position":"
    text.slice(after(0) - 1, at[1] + 1), // ","prevHash":"
    text.slice(after(1) - 1, at[2]), // ",…,"streamVersion":
    text.slice(after(2)), // ,"type":…}
  ];
  // Before anything is sent: the pieces joined with sample values are the hashed text.
  const sample = { position: "12", prevHash: GENESIS_HASH, streamVersion: 3 };
  if (
    parts[0] +
      sample.position +
      parts[1] +
      sample.prevHash +
      parts[2] +
      sample.streamVersion +
      parts[3] !==
    hashedText({ ...event, ...sample })
  )
    throw new Error("cannot split an event's hashed text");
  return parts;
}
