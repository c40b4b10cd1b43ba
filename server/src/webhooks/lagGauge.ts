import { Gauge, type Registry } from "prom-client";
import type { Db } from "../db/database.ts";

/** `coffer_webhook_lag_events`: the largest number of events a subscription is behind. */
export function registerWebhookLag(registry: Registry, db: Db): void {
  new Gauge({
    name: "coffer_webhook_lag_events",
    help: "Events not yet delivered to the most lagging webhook subscription",
    registers: [registry],
    async collect() {
      const [row] = await db.$queryRaw<{ lag: bigint | null }[]>`
        SELECT max((SELECT count(*) FROM events e WHERE e.organization_id = s.organization_id AND e.position > s.cursor_position)) AS lag
        FROM webhook_subscriptions s WHERE s.deleted_at IS NULL`;
      this.set(Number(row?.lag ?? 0));
    },
  });
}
