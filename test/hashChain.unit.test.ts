import { describe, expect, it } from "vitest";
import { canonicalJson } from "../server/src/canonicalJson.ts";
import type { StoredEvent } from "../server/src/eventstore/types.ts";
import {
  eventHash,
  eventHashParts,
  eventHashPieces,
  hashedRecord,
} from "../server/src/eventstore/hashChain.ts";

// The append sends an event's hashed text in four pieces (the database fills in position,
// previous hash and stream version); joined, they must be exactly what every verifier hashes.
const events: Omit<StoredEvent, "hash" | "position" | "prevHash" | "streamVersion">[] = [
  {
    streamId: "usage-ws",
    type: "SecretsResolved",
    schemaVersion: 1,
    data: { z: 1, a: [{ b: 'ünïcödé \u2028 "quoted" \\ back' }], n: null, f: 1.5e-7 },
    metadata: { actor: { kind: "token", id: "t" }, requestId: "r", ip: "::1" },
    organizationId: "00000000-0000-4000-8000-000000000001",
    occurredAt: new Date("2026-12-07T06:00:00.123Z"),
  },
  {
    streamId: "user-1",
    type: "UserRegistered",
    schemaVersion: 3,
    data: { "😀": "emoji key", "": "empty key", "\u00e9": 2, e: 1 },
    metadata: { actor: { kind: "system", id: "first-run" }, tokenId: "tok" },
    organizationId: null,
    occurredAt: new Date(0),
  },
];

describe("eventHashParts", () => {
  for (const [i, event] of events.entries())
    it(`joins to the canonical hashed text (event ${i + 1})`, () => {
      const [a, b, c, d] = eventHashParts(event);
      const values = { position: "9007199254740993", prevHash: "ab".repeat(32), streamVersion: 42 };
      const joined = `${a}${values.position}${b}${values.prevHash}${c}${values.streamVersion}${d}`;
      expect(joined).toBe(canonicalJson(hashedRecord({ ...event, ...values })));
      const [data, metadata, p1, p2, p3] = eventHashPieces(event);
      // coffer_append_batch's join (prisma/migrations/…_append_batch).
      expect(
        `{"data":${data},"metadata":${metadata}${p1}${values.position}","prevHash":"${values.prevHash}${p2}${values.streamVersion}${p3}`,
      ).toBe(joined);
      expect(JSON.parse(joined)).toMatchObject({ position: values.position, streamVersion: 42 });
      expect(eventHash({ ...event, ...values, position: BigInt(values.position) })).toMatch(
        /^[0-9a-f]{64}$/,
      );
    });
});
