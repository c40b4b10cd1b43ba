/** Who caused an event and through which request; never carries credential material. */
export type EventMetadata = {
  actor: { kind: "user" | "token" | "system"; id: string };
  tokenId?: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
};

export type NewEvent = {
  type: string;
  /** Bumped when an event's data shape changes, so old events stay readable. */
  schemaVersion?: number;
  data: Record<string, unknown>;
};

export type StoredEvent = {
  position: bigint;
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  organizationId: string | null;
  occurredAt: Date;
  prevHash: string;
  hash: string;
};

/**
 * `"no_stream"`: the stream must not exist yet; a number: the stream's current last
 * version; `"any"`: append without a check (usage streams, which must never contend).
 */
export type ExpectedVersion = "no_stream" | "any" | number;
