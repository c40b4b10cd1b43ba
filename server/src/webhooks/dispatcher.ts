import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "../db/database.ts";
import { readOrganizationEvents } from "../eventstore/read.ts";
import type { StoredEvent } from "../eventstore/types.ts";
import type { Logger } from "../logger.ts";
import { EgressRefusedError } from "../errors/EgressRefusedError.ts";
import type { Egress } from "../net/egress.ts";
import { unseal } from "../oauth/sealedValues.ts";
import type { Transit } from "../transit/Transit.ts";
import { signPayload } from "./signature.ts";

const BATCH = 50;
const MAX_BACKOFF_MS = 10 * 60_000;
/**
 * A delivery is abandoned once this share of the lease has passed since the last renewal
 * was sent: the rest is the margin that keeps it from overlapping the next holder's.
 */
const SAFE_SHARE = 0.7;

/** What a claim returns: the subscription as its new holder sees it. */
type Claimed = {
  id: string;
  organizationId: string;
  url: string;
  eventTypes: string[];
  secretCiphertext: string;
  cursorPosition: bigint;
  attempts: number;
};

/**
 * Tails each subscription's organization in the event log from its cursor and POSTs the
 * events in order, signed. A 2xx moves the cursor past the event; anything else (or no
 * answer within the timeout) schedules a retry with exponential backoff and stops that
 * subscription until then, so order is kept. Commands never wait for any of this.
 *
 * Across replicas, a subscription has one deliverer at a time: a dispatcher first claims
 * it (`lease_owner`, a token new for every claim, and `lease_until` on the database's
 * clock) with `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take different rows. It
 * renews the lease while a request is in flight, and every write it makes (cursor,
 * failure, release) is conditional on still holding that token, so a dispatcher that lost
 * its lease writes nothing. A request still unanswered when the lease could lapse is
 * aborted first, so the next holder never overlaps it. A dead replica's lease simply
 * expires and another claims the subscription: delivery is at least once, and receivers
 * deduplicate by `x-coffer-event-id`. Only a process frozen longer than the margin (see
 * SAFE_SHARE) between its last check and sending could still overlap; nothing on the
 * receiver's side can fence that.
 */
export function createDispatcher(deps: {
  db: Db;
  transit: Transit;
  logger: Logger;
  clock?: () => Date;
  timeoutMs?: number;
  /** The egress guard every delivery goes through (receivers are tenant-chosen addresses). */
  egress: Pick<Egress, "fetch">;
  /** How long a claim lasts unless renewed; 30 s by default, shorter in tests. */
  leaseMs?: number;
  /** Names this process in `lease_owner` (host, pid and a random suffix by default). */
  instance?: string;
}) {
  const clock = deps.clock ?? (() => new Date());
  const leaseMs = deps.leaseMs ?? 30_000;
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const instance = deps.instance ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseSeconds = leaseMs / 1000;
  // Per process on purpose: a signing key never changes for a subscription's lifetime.
  const keys = new Map<string, string>();
  let claims = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function keyOf(sub: Claimed): Promise<string> {
    let key = keys.get(sub.id);
    if (!key) {
      [key] = await unseal(deps.transit, sub.organizationId, [
        { ciphertext: sub.secretCiphertext, ownerId: sub.id, field: "webhook_signing_key" },
      ]);
      keys.set(sub.id, key!);
    }
    return key!;
  }

  /** Claims one due subscription with undelivered events that no live lease holds. */
  async function claim(skip: string[]): Promise<{ sub: Claimed; lease: Lease } | undefined> {
    const token = `${instance}#${++claims}`;
    const sentAt = Date.now();
    const [sub] = await deps.db.$queryRaw<Claimed[]>`
      UPDATE webhook_subscriptions
      SET lease_owner = ${token}, lease_until = now() + make_interval(secs => ${leaseSeconds}::float8)
      WHERE id IN (
        SELECT s.id FROM webhook_subscriptions s
        WHERE s.deleted_at IS NULL
          AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= ${clock()})
          AND (s.lease_until IS NULL OR s.lease_until < now())
          AND s.id <> ALL(${skip}::uuid[])
          AND EXISTS (SELECT 1 FROM events e
                      WHERE e.organization_id = s.organization_id AND e.position > s.cursor_position)
        ORDER BY s.next_attempt_at NULLS FIRST, s.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
      AND (lease_until IS NULL OR lease_until < now())
      RETURNING id, organization_id AS "organizationId", url, event_types AS "eventTypes",
        secret_ciphertext AS "secretCiphertext", cursor_position AS "cursorPosition", attempts`;
    return sub ? { sub, lease: holdLease(sub.id, token, sentAt) } : undefined;
  }

  type Lease = ReturnType<typeof holdLease>;

  /**
   * The claim on one subscription: renewed in the background while held, `lost` aborted
   * as soon as it is taken over or could have lapsed. Every write goes through `write`.
   */
  function holdLease(id: string, token: string, claimedAt: number) {
    let safeUntil = claimedAt + leaseMs * SAFE_SHARE;
    const lost = new AbortController();
    const write = async (query: (token: string) => Promise<number>): Promise<boolean> => {
      if (lost.signal.aborted) return false;
      const sentAt = Date.now();
      const held = (await query(token)) === 1;
      if (held) safeUntil = sentAt + leaseMs * SAFE_SHARE;
      else lost.abort();
      return held;
    };
    const renew = () =>
      write(
        (t) => deps.db.$executeRaw`
          UPDATE webhook_subscriptions
          SET lease_until = now() + make_interval(secs => ${leaseSeconds}::float8)
          WHERE id = ${id}::uuid AND lease_owner = ${t}`,
      );
    const heartbeat = setInterval(
      () => {
        if (Date.now() >= safeUntil) return lost.abort();
        renew().catch((error: unknown) =>
          deps.logger.warn(
            { subscriptionId: id, err: String(error) },
            "webhook lease renewal failed",
          ),
        );
      },
      Math.max(10, leaseMs / 5),
    );
    heartbeat.unref();
    return {
      lost: lost.signal,
      write,
      /** Lets go of the claim (when still held) so another replica need not wait for expiry. */
      async release() {
        clearInterval(heartbeat);
        if (lost.signal.aborted) return;
        await deps.db.$executeRaw`
          UPDATE webhook_subscriptions SET lease_owner = NULL, lease_until = NULL
          WHERE id = ${id}::uuid AND lease_owner = ${token}`;
      },
      stop: () => clearInterval(heartbeat),
    };
  }

  async function deliverOne(
    sub: Claimed,
    event: StoredEvent,
    key: string,
    lost: AbortSignal,
  ): Promise<string | null> {
    const body = JSON.stringify({
      ...event,
      position: event.position.toString(),
      occurredAt: event.occurredAt.toISOString(),
    });
    const timestamp = Math.floor(clock().getTime() / 1000);
    try {
      const response = await deps.egress.fetch(sub.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-coffer-event-id": event.position.toString(),
          "x-coffer-event-type": event.type,
          "x-coffer-signature": signPayload(key, body, timestamp),
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), lost]),
        redirect: "manual",
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
    } catch (error) {
      if (lost.aborted) return "lease lost";
      // The guard's reason, as the receiver's owner should read it in lastError.
      if (error instanceof EgressRefusedError) return error.message;
      return error instanceof Error
        ? error.name === "TimeoutError"
          ? "timeout"
          : ((error.cause as { code?: string } | undefined)?.code ?? error.message)
        : "request failed";
    }
  }

  /** Delivers one batch of a claimed subscription; returns how many events were delivered. */
  async function serve(sub: Claimed, lease: Lease): Promise<number> {
    const events = await readOrganizationEvents(
      deps.db,
      sub.organizationId,
      { afterPosition: sub.cursorPosition },
      BATCH,
    );
    const wanted = (e: StoredEvent) =>
      sub.eventTypes.length === 0 ||
      sub.eventTypes.includes(e.type) ||
      e.type.startsWith("Webhook");
    const advance = (position: bigint, delivered: boolean) =>
      lease.write(
        (t) => deps.db.$executeRaw`
          UPDATE webhook_subscriptions
          SET cursor_position = ${position}, attempts = 0, last_error = NULL, next_attempt_at = NULL,
              last_delivered_at = CASE WHEN ${delivered} THEN ${clock()} ELSE last_delivered_at END,
              lease_until = now() + make_interval(secs => ${leaseSeconds}::float8)
          WHERE id = ${sub.id}::uuid AND lease_owner = ${t}`,
      );
    let delivered = 0;
    // `handled`: through here every event was delivered or passed over; `written`: the cursor stored.
    let handled = sub.cursorPosition;
    let written = sub.cursorPosition;
    for (const event of events) {
      // Events the subscription does not want are passed over, so they never hold it up.
      if (!wanted(event)) {
        handled = event.position;
        continue;
      }
      if (lease.lost.aborted) return delivered;
      const failure = await deliverOne(sub, event, await keyOf(sub), lease.lost);
      if (failure) {
        if (lease.lost.aborted) {
          deps.logger.warn(
            { subscriptionId: sub.id, position: event.position.toString() },
            "webhook lease lost mid-delivery; another replica takes over",
          );
          return delivered;
        }
        const attempts = sub.attempts + 1;
        const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts - 1, 20));
        await lease.write(
          (t) => deps.db.$executeRaw`
            UPDATE webhook_subscriptions
            SET attempts = ${attempts}, last_error = ${failure},
                next_attempt_at = ${new Date(clock().getTime() + backoff)},
                cursor_position = ${handled}, lease_owner = NULL, lease_until = NULL
            WHERE id = ${sub.id}::uuid AND lease_owner = ${t}`,
        );
        deps.logger.warn(
          { subscriptionId: sub.id, position: event.position.toString(), attempts, failure },
          "webhook delivery failed; will retry",
        );
        return delivered;
      }
      if (!(await advance(event.position, true))) return delivered;
      handled = written = event.position;
      sub.attempts = 0;
      delivered++;
    }
    if (handled > written) await advance(handled, false);
    return delivered;
  }

  /** One pass: claims due subscriptions one at a time until none is left for this pass. */
  async function deliverDue(): Promise<number> {
    const done: string[] = [];
    let delivered = 0;
    for (;;) {
      const claimed = await claim(done);
      if (!claimed) return delivered;
      done.push(claimed.sub.id);
      try {
        delivered += await serve(claimed.sub, claimed.lease);
      } finally {
        await claimed.lease.release().catch((error: unknown) => {
          claimed.lease.stop();
          deps.logger.warn(
            { subscriptionId: claimed.sub.id, err: String(error) },
            "webhook lease release failed; it expires on its own",
          );
        });
      }
    }
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
