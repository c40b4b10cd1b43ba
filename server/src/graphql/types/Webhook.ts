import type { WebhookSubscription } from "../../generated/prisma/client.ts";
import { loadOrgAccess } from "../../authz/access.ts";
import { ForbiddenError } from "../../errors/ForbiddenError.ts";
import { TransitError } from "../../transit/TransitError.ts";
import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { OrganizationRef } from "./Organization.ts";

export const WebhookSubscriptionRef = builder
  .objectRef<WebhookSubscription>("WebhookSubscription")
  .implement({
    description:
      "Events of the organization delivered to a receiver, signed (x-coffer-signature), in order, at least once",
    fields: (t) => ({
      id: t.exposeID("id"),
      url: t.exposeString("url"),
      eventTypes: t.exposeStringList("eventTypes", { description: "Empty: every event" }),
      deliveredThroughPosition: t.string({ resolve: (s) => s.cursorPosition.toString() }),
      failedAttempts: t.exposeInt("attempts", {
        description: "Consecutive failures of the next event",
      }),
      nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime", nullable: true }),
      lastError: t.exposeString("lastError", { nullable: true }),
      lastDeliveredAt: t.expose("lastDeliveredAt", { type: "DateTime", nullable: true }),
      createdAt: t.expose("createdAt", { type: "DateTime" }),
    }),
  });

builder.objectField(OrganizationRef, "webhookSubscriptions", (t) =>
  t.field({
    type: [WebhookSubscriptionRef],
    description: "For organization admins",
    resolve: async (o, _args, ctx) => {
      const access = await loadOrgAccess(ctx.db, ctx.actor!, o.id);
      if (!access?.permissions.has("admin"))
        throw new ForbiddenError("Webhooks are for organization admins");
      return ctx.db.webhookSubscription.findMany({
        where: { organizationId: o.id, deletedAt: null },
        orderBy: { createdAt: "asc" },
      });
    },
  }),
);

const CreateWebhookInput = builder.inputType("CreateWebhookSubscriptionInput", {
  fields: (t) => ({
    organizationId: t.id(),
    url: t.string({ description: "HTTPS" }),
    eventTypes: t.stringList({ required: false }),
  }),
});

const CreatedWebhook = builder
  .objectRef<{ subscription: WebhookSubscription; signingSecret: string }>(
    "CreatedWebhookSubscription",
  )
  .implement({
    fields: (t) => ({
      subscription: t.field({ type: WebhookSubscriptionRef, resolve: (p) => p.subscription }),
      signingSecret: t.exposeString("signingSecret", {
        description: "The HMAC-SHA256 key for x-coffer-signature. Shown only here.",
      }),
    }),
  });

builder.mutationField("createWebhookSubscription", (t) =>
  t.field({
    type: CreatedWebhook,
    authScopes: { authenticated: true },
    errors: { types: [...COMMAND_ERRORS, TransitError] },
    args: { input: t.arg({ type: CreateWebhookInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.webhooks.create(callerOf(ctx), localId(input.organizationId, "Organization"), {
        url: input.url,
        eventTypes: input.eventTypes,
      }),
  }),
);

builder.mutationField("deleteWebhookSubscription", (t) =>
  t.boolean({
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { organizationId: t.arg.id(), id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      await ctx.services.webhooks.delete(
        callerOf(ctx),
        localId(args.organizationId, "Organization"),
        String(args.id),
      );
      return true;
    },
  }),
);
