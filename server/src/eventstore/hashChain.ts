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
  const canonical = canonicalJson({
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
  });
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
