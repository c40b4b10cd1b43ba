import type { Db } from "../db/database.ts";
import { GENESIS_HASH, eventHash } from "./hashChain.ts";
import { readOrganizationPages } from "./read.ts";

export type ChainVerification =
  | { ok: true; eventCount: number; headHash: string }
  | {
      ok: false;
      eventCount: number;
      firstBadPosition: bigint;
      reason: "hash_mismatch" | "broken_link";
    };

/**
 * Recomputes an organization's hash chain from its first event. Reports the first
 * position whose stored hash does not match its content, or whose previous-hash link
 * does not match the event before it (an event removed or inserted).
 */
export async function verifyChain(
  db: Db,
  organizationId: string,
  pageSize = 1000,
): Promise<ChainVerification> {
  let expectedPrev = GENESIS_HASH;
  let eventCount = 0;
  for await (const page of readOrganizationPages(db, organizationId, undefined, pageSize)) {
    for (const event of page) {
      eventCount++;
      if (event.prevHash !== expectedPrev) {
        return { ok: false, eventCount, firstBadPosition: event.position, reason: "broken_link" };
      }
      const { hash, ...unhashed } = event;
      if (eventHash(unhashed) !== hash) {
        return { ok: false, eventCount, firstBadPosition: event.position, reason: "hash_mismatch" };
      }
      expectedPrev = hash;
    }
  }
  return { ok: true, eventCount, headHash: expectedPrev };
}
