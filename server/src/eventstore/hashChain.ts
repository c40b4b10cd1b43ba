import { createHash } from "node:crypto";
import canonicalizeModule from "canonicalize";
import type { StoredEvent } from "./types.ts";

// A CommonJS module whose typings declare an ES default export: unwrap whichever we get.
const canonicalize = ((canonicalizeModule as unknown as { default?: typeof canonicalizeModule })
  .default ?? canonicalizeModule) as unknown as (input: unknown) => string | undefined;

export const GENESIS_HASH = "0".repeat(64);

/**
 * SHA-256 over the RFC 8785 canonical JSON of every stored field but the hash itself.
 * The previous hash is inside, so changing or removing any earlier event of the
 * organization breaks every later link.
 */
export function eventHash(event: Omit<StoredEvent, "hash">): string {
  const canonical = canonicalize({
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
  if (canonical === undefined) throw new Error("event cannot be canonicalized");
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
