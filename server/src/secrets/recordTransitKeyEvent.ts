import type { Tx } from "../db/database.ts";
import { transitKeyStream, type TransitKeyEvent } from "../domain/transitKey/events.ts";
import { appendToStream } from "../eventstore/append.ts";
import type { EventMetadata } from "../eventstore/types.ts";

/** Appends one event to the organization's transit-key stream (no expected version). */
export const recordTransitKeyEvent = (
  tx: Tx,
  now: Date,
  organizationId: string,
  event: TransitKeyEvent,
  metadata: EventMetadata,
) =>
  appendToStream(tx, {
    streamId: transitKeyStream(organizationId),
    organizationId,
    expectedVersion: "any",
    events: [event],
    metadata,
    now,
  });
