import type { StoredEvent } from "../../eventstore/types.ts";
import { builder } from "../builder.ts";

export const AuditEventRef = builder.objectRef<StoredEvent>("AuditEvent").implement({
  description:
    "One entry of the append-only, hash-chained audit log. Carries metadata, never secret values.",
  fields: (t) => ({
    position: t.string({
      description: "Global position (a 64-bit integer as a string)",
      resolve: (e) => e.position.toString(),
    }),
    streamId: t.exposeString("streamId"),
    streamVersion: t.exposeInt("streamVersion"),
    type: t.exposeString("type"),
    schemaVersion: t.exposeInt("schemaVersion"),
    occurredAt: t.expose("occurredAt", { type: "DateTime" }),
    actorKind: t.string({ resolve: (e) => e.metadata.actor.kind }),
    actorId: t.string({ resolve: (e) => e.metadata.actor.id }),
    requestId: t.string({ nullable: true, resolve: (e) => e.metadata.requestId ?? null }),
    data: t.field({ type: "JSON", resolve: (e) => e.data }),
    metadata: t.field({ type: "JSON", resolve: (e) => e.metadata }),
    prevHash: t.exposeString("prevHash"),
    hash: t.exposeString("hash"),
  }),
});

export const ChainVerificationRef = builder
  .objectRef<{
    ok: boolean;
    eventCount: number;
    headHash: string | null;
    firstBadPosition: bigint | null;
    reason: string | null;
  }>("AuditChainVerification")
  .implement({
    fields: (t) => ({
      ok: t.exposeBoolean("ok"),
      eventCount: t.exposeInt("eventCount"),
      headHash: t.exposeString("headHash", { nullable: true }),
      firstBadPosition: t.string({
        nullable: true,
        resolve: (v) => v.firstBadPosition?.toString() ?? null,
      }),
      reason: t.exposeString("reason", {
        nullable: true,
        description: "hash_mismatch or broken_link",
      }),
    }),
  });
