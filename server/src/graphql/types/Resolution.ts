import { resolveOffsetConnection } from "@pothos/plugin-relay";
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { SecretUsage } from "../../generated/prisma/client.ts";
import { AwsAssumeRoleError } from "../../aws/AwsAssumeRoleError.ts";
import { CredentialNotFoundError } from "../../resolution/CredentialNotFoundError.ts";
import { AuditUnavailableError } from "../../resolution/AuditUnavailableError.ts";
import type { ResolvedValue } from "../../resolution/resolutionService.ts";
import { builder } from "../builder.ts";
import { ErrorInterface } from "../errors.ts";
import { SecretRef, SecretScopeEnum } from "./Secret.ts";
import { UserRef } from "./User.ts";

export const CredentialHintRef = builder
  .objectRef<{ name: string; environments: string[] }>("CredentialHint")
  .implement({
    description: "Where a missing secret name does exist",
    fields: (t) => ({
      name: t.exposeString("name"),
      environments: t.exposeStringList("environments"),
    }),
  });

builder.objectType(CredentialNotFoundError, {
  name: "CredentialNotFoundError",
  description:
    "credential_not_found: every missing name.KEY, the environment searched, and where else the names exist",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    environment: t.exposeString("environment"),
    environmentDeclared: t.exposeBoolean("environmentDeclared"),
    missing: t.exposeStringList("missing"),
    hints: t.field({ type: [CredentialHintRef], resolve: (e) => e.hints }),
  }),
});

builder.objectType(AuditUnavailableError, {
  name: "AuditUnavailableError",
  interfaces: [ErrorInterface],
});

builder.objectType(AwsAssumeRoleError, {
  name: "AwsAssumeRoleError",
  description: "STS refused or failed to assume the secret's role; the message says what to check",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    roleArn: t.exposeString("roleArn", { nullable: true }),
    awsErrorCode: t.exposeString("awsErrorCode", { nullable: true }),
    retryable: t.exposeBoolean("retryable"),
  }),
});

export const ResolvedValueRef = builder.objectRef<ResolvedValue>("ResolvedSecretValue").implement({
  description: "One resolved value. This is the only place Coffer returns plaintext.",
  fields: (t) => ({
    ref: t.string({ resolve: (v) => `${v.name}.${v.key}` }),
    name: t.exposeString("name"),
    key: t.exposeString("key"),
    scope: t.field({
      type: SecretScopeEnum,
      resolve: (v) => v.scope,
      description: "Where the value came from (personal → workspace → organization)",
    }),
    environment: t.exposeString("environment"),
    secretId: t.id({ resolve: (v) => encodeGlobalID("Secret", v.secretId) }),
    version: t.exposeInt("version"),
    dynamic: t.exposeString("dynamic", {
      nullable: true,
      description: "e.g. aws-assume-role: minted for this resolution",
    }),
    value: t.exposeString("value"),
  }),
});

export const SecretUsageRef = builder.objectRef<SecretUsage>("SecretUsage").implement({
  description: "One use of a secret by a resolution (seed 004's Recent usage)",
  fields: (t) => ({
    usedAt: t.expose("usedAt", { type: "DateTime" }),
    environment: t.exposeString("environment"),
    version: t.exposeInt("version"),
    keyNames: t.exposeStringList("keyNames"),
    actorKind: t.exposeString("actorKind", { description: "token or user" }),
    actorId: t.exposeString("actorId"),
    onBehalfOf: t.field({
      type: UserRef,
      nullable: true,
      resolve: (u, _a, ctx) =>
        u.onBehalfOf
          ? ctx.db.user.findUnique({
              where: { id: u.onBehalfOf },
              select: { id: true, email: true, name: true },
            })
          : null,
    }),
    workflowId: t.exposeString("workflowId", { nullable: true }),
    runId: t.exposeString("runId", { nullable: true }),
    actionRef: t.exposeString("actionRef", { nullable: true }),
    auditPosition: t.string({ resolve: (u) => u.eventPosition.toString() }),
  }),
});

builder.objectField(SecretRef, "recentUsage", (t) =>
  t.connection({
    type: SecretUsageRef,
    description:
      "Newest first: who used it, for which action / workflow / run, in which environment, at which version",
    resolve: (s, args, ctx) =>
      resolveOffsetConnection({ args }, ({ offset, limit }) =>
        ctx.db.secretUsage.findMany({
          where: { secretId: s.id },
          orderBy: [{ usedAt: "desc" }, { eventPosition: "desc" }],
          skip: offset,
          take: limit,
        }),
      ),
  }),
);
