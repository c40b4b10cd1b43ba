import { randomBytes } from "node:crypto";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { requireOrgAccess, requirePermission } from "../authz/access.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { appendToStream } from "../eventstore/append.ts";
import { checkDestination } from "../net/destinationPolicy.ts";
import type { Egress } from "../net/egress.ts";
import { seal } from "../oauth/sealedValues.ts";
import type { Transit } from "../transit/Transit.ts";

export const webhookStream = (organizationId: string) => `webhooks-${organizationId}`;

/** Subscriptions to an organization's events; organization admins only. */
export function webhookService(
  deps: CoreDeps & { transit: Transit; egress: Pick<Egress, "policy"> },
) {
  return {
    /** Returns the signing key once; only its transit ciphertext is kept. */
    async create(
      caller: Caller,
      organizationId: string,
      input: { url: string; eventTypes?: string[] | null | undefined },
    ) {
      const access = await requireOrgAccess(deps.db, caller.actor, organizationId);
      requirePermission(access, "admin", "Managing webhooks");
      const url = checkDestination("url", input.url, deps.egress.policy);
      const eventTypes = [...new Set(input.eventTypes ?? [])];
      if (eventTypes.some((t) => !/^[A-Za-z]{1,64}$/.test(t)))
        throw ValidationError.fromIssues([
          { path: "eventTypes", message: "event types are names such as SecretRotated" },
        ]);
      const id = deps.newId();
      const signingSecret = `whsec_${randomBytes(32).toString("base64url")}`;
      const [secretCiphertext] = await seal(deps.transit, organizationId, [
        { ownerId: id, field: "webhook_signing_key", value: signingSecret },
      ]);
      const subscription = await deps.db.$transaction(async (tx) => {
        const [head] = await tx.$queryRaw<
          { p: bigint | null }[]
        >`SELECT max(position) AS p FROM events WHERE organization_id = ${organizationId}::uuid`;
        const now = deps.clock();
        const row = await tx.webhookSubscription.create({
          // Deliveries start after the events that exist now (plus this subscription's own event).
          data: {
            id,
            organizationId,
            url,
            eventTypes,
            secretCiphertext: secretCiphertext!,
            cursorPosition: head?.p ?? 0n,
            attempts: 0,
            createdAt: now,
          },
        });
        await appendToStream(tx, {
          streamId: webhookStream(organizationId),
          organizationId,
          expectedVersion: "any",
          events: [
            { type: "WebhookSubscriptionCreated", data: { subscriptionId: id, url, eventTypes } },
          ],
          metadata: caller.metadata,
          now,
        });
        return row;
      });
      return { subscription, signingSecret };
    },

    async delete(caller: Caller, organizationId: string, subscriptionId: string) {
      const access = await requireOrgAccess(deps.db, caller.actor, organizationId);
      requirePermission(access, "admin", "Managing webhooks");
      await deps.db.$transaction(async (tx) => {
        const { count } = await tx.webhookSubscription.updateMany({
          where: { id: subscriptionId, organizationId, deletedAt: null },
          data: { deletedAt: deps.clock() },
        });
        if (count !== 1) throw new NotFoundError("Webhook subscription");
        await appendToStream(tx, {
          streamId: webhookStream(organizationId),
          organizationId,
          expectedVersion: "any",
          events: [{ type: "WebhookSubscriptionDeleted", data: { subscriptionId } }],
          metadata: caller.metadata,
          now: deps.clock(),
        });
      });
    },
  };
}
