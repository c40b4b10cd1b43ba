import type { RewrapJob } from "../../generated/prisma/client.ts";
import { loadOrgAccess } from "../../authz/access.ts";
import type { TransitKeyService } from "../../secrets/transitKeyService.ts";
import { ForbiddenError } from "../../errors/ForbiddenError.ts";
import { builder } from "../builder.ts";
import { OrganizationRef } from "./Organization.ts";

export const RewrapJobRef = builder.objectRef<RewrapJob>("RewrapJob").implement({
  description: "Moving an organization's ciphertexts to the newest transit key version",
  fields: (t) => ({
    id: t.exposeID("id"),
    status: t.exposeString("status", {
      description:
        "RUNNING, FINALIZING (nothing old is left; the key's minimum version is being raised), COMPLETED (the key refuses older versions) or FAILED (run rewrapSecrets again to resume)",
    }),
    targetKeyVersion: t.exposeInt("targetKeyVersion"),
    total: t.exposeInt("total"),
    rewrapped: t.exposeInt("rewrapped"),
    lastError: t.exposeString("lastError", { nullable: true }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
  }),
});

const CountRef = builder
  .objectRef<{ keyVersion: number; count: number }>("CiphertextsOnKeyVersion")
  .implement({
    fields: (t) => ({ keyVersion: t.exposeInt("keyVersion"), count: t.exposeInt("count") }),
  });

export const TransitKeyStatusRef = builder
  .objectRef<Awaited<ReturnType<TransitKeyService["status"]>>>("TransitKeyStatus")
  .implement({
    description: "The organization's transit key: versions, and where its ciphertexts stand",
    fields: (t) => ({
      keyName: t.exposeString("keyName"),
      latestVersion: t.exposeInt("latestVersion", {
        nullable: true,
        description: "Null once the key is destroyed",
      }),
      minDecryptionVersion: t.exposeInt("minDecryptionVersion", { nullable: true }),
      ciphertextsByVersion: t.field({ type: [CountRef], resolve: (s) => s.ciphertextsByVersion }),
      latestRewrapJob: t.field({ type: RewrapJobRef, nullable: true, resolve: (s) => s.latestJob }),
    }),
  });

builder.objectField(OrganizationRef, "transitKey", (t) =>
  t.field({
    type: TransitKeyStatusRef,
    description: "For organization admins",
    resolve: async (o, _args, ctx) => {
      const access = await loadOrgAccess(ctx.db, ctx.actor!, o.id);
      if (!access?.permissions.has("admin"))
        throw new ForbiddenError("The transit key status is for organization admins");
      return ctx.services.transitKeys.status(o.id);
    },
  }),
);
