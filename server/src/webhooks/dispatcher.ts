import type { Db } from "../db/database.ts";
import { readOrganizationEvents } from "../eventstore/read.ts";
import type { StoredEvent } from "../eventstore/types.ts";
import type { Logger } from "../logger.ts";
import { unseal } from "../oauth/sealedValues.ts";
import type { Transit } from "../transit/Transit.ts";
import type { WebhookSubscription } from "../generated/prisma/client.ts";
import { signPayload } from "./signature.ts";

const BATCH = 50;
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Tails each subscription's organization in the event log from its cursor and POSTs the
 * events in order, signed. A 2xx moves the cursor past the event; anything else (or no
 * answer within the timeout) schedules a retry with exponential backoff and stops that
 * subscription until then, so order is kept. Commands never wait for any of this.
 */
export function createDispatcher(deps: {
  db: Db;
  transit: Transit;
  logger: Logger;
  clock?: () => Date;
  timeoutMs?: number;
  fetch?: typeof fetch;
}) {
  const clock = deps.clock ?? (() => new Date());
  const keys = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function keyOf(sub: WebhookSubscription): Promise<string> {
    let key = keys.get(sub.id);
    if (!key) {
      [key] = await unseal(deps.transit, sub.organizationId, [
        { ciphertext: sub.secretCiphertext, ownerId: sub.id, field: "webhook_signing_key" },
      ]);
      keys.set(sub.id, key!);
    }
    return key!;
  }

  async function deliverOne(
    sub: WebhookSubscription,
    event: StoredEvent,
    key: string,
  ): Promise<string | null> {
    const body = JSON.stringify({
      ...event,
      position: event.position.toString(),
      occurredAt: event.occurredAt.toISOString(),
    });
    const timestamp = Math.floor(clock().getTime() / 1000);
    try {
      const response = await (deps.fetch ?? fetch)(sub.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-coffer-event-id": event.position.toString(),
          "x-coffer-event-type": event.type,
          "x-coffer-signature": signPayload(key, body, timestamp),
        },
        body,
        signal: AbortSignal.timeout(deps.timeoutMs ?? 5_000),
        redirect: "manual",
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
    } catch (error) {
      return error instanceof Error
        ? error.name === "TimeoutError"
          ? "timeout"
          : ((error.cause as { code?: string } | undefined)?.code ?? error.message)
        : "request failed";
    }
  }

  /** One pass over every due subscription; returns how many events were delivered. */
  async function deliverDue(): Promise<number> {
    const now = clock();
    const subs = await deps.db.webhookSubscription.findMany({
      where: { deletedAt: null, OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }] },
    });
    let delivered = 0;
    for (const sub of subs) {
      const events = (
        await readOrganizationEvents(
          deps.db,
          sub.organizationId,
          { afterPosition: sub.cursorPosition },
          BATCH,
        )
      ).filter(
        (e) =>
          sub.eventTypes.length === 0 ||
          sub.eventTypes.includes(e.type) ||
          e.type.startsWith("Webhook"),
      );
      if (events.length === 0) continue;
      const key = await keyOf(sub);
      for (const event of events) {
        const failure = await deliverOne(sub, event, key);
        if (failure) {
          const attempts = sub.attempts + 1;
          const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts - 1, 20));
          await deps.db.webhookSubscription.update({
            where: { id: sub.id },
            data: {
              attempts,
              lastError: failure,
              nextAttemptAt: new Date(clock().getTime() + backoff),
            },
          });
          deps.logger.warn(
            { subscriptionId: sub.id, position: event.position.toString(), attempts, failure },
            "webhook delivery failed; will retry",
          );
          break;
        }
        await deps.db.webhookSubscription.update({
          where: { id: sub.id },
          data: {
            cursorPosition: event.position,
            attempts: 0,
            lastError: null,
            nextAttemptAt: null,
            lastDeliveredAt: clock(),
          },
        });
        sub.attempts = 0;
        delivered++;
      }
    }
    return delivered;
  }

  return {
    /** Runs one pass now (and waits for a pass already running). */
    async runOnce(): Promise<number> {
      if (running) await running.catch(() => 0);
      running = deliverDue().finally(() => (running = undefined));
      return running;
    },
    start(intervalMs = 1000) {
      timer = setInterval(() => {
        if (!running)
          void this.runOnce().catch((error: unknown) =>
            deps.logger.error({ err: String(error) }, "webhook dispatcher pass failed"),
          );
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => 0);
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
