import { AwsAssumeRoleError } from "../../aws/AwsAssumeRoleError.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { AuditUnavailableError } from "../../resolution/AuditUnavailableError.ts";
import { CredentialNotFoundError } from "../../resolution/CredentialNotFoundError.ts";
import type { ResolvedValue } from "../../resolution/resolutionService.ts";
import { OAuthProviderError, OAuthReconnectionRequiredError } from "../../oauth/oauthErrors.ts";
import { RateLimitedError } from "../../ops/rateLimits.ts";
import { SecretIntegrityError } from "../../secrets/secretPayload.ts";
import { TransitError } from "../../transit/TransitError.ts";
import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { CredentialHintRef, ResolvedValueRef } from "../types/Resolution.ts";
import { SecretScopeEnum } from "../types/Secret.ts";

const SecretRefInput = builder.inputType("SecretRefInput", {
  fields: (t) => ({ name: t.string(), key: t.string() }),
});

const PurposeInput = builder.inputType("ResolutionPurposeInput", {
  description: "Why the values are needed: recorded in the audit log and in Recent usage",
  fields: (t) => ({
    workflowId: t.string({ required: false }),
    runId: t.string({ required: false }),
    actionRef: t.string({ required: false }),
  }),
});

const resolutionTarget = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  workspaceId: t.id({
    required: false,
    description:
      "Only for organization tokens and users; a workspace token resolves in its own workspace",
  }),
  defaultEnvironment: t.string({
    required: false,
    description: "The workflow's environment; `default` when omitted",
  }),
  onBehalfOfUser: t.id({
    required: false,
    description: "A user id: their PERSONAL secrets take precedence",
  }),
});

const ResolveSecretsInput = builder.inputType("ResolveSecretsInput", {
  fields: (t) => ({
    ...resolutionTarget(t),
    arguments: t.field({
      type: "JSON",
      required: false,
      description: "The action's arguments, with ${{ SECRETS.name.KEY }} expressions",
    }),
    refs: t.field({
      type: [SecretRefInput],
      required: false,
      description: "Extra refs to resolve (returned in values)",
    }),
    environment: t.string({ required: false, description: "The action's environment override" }),
    purpose: t.field({ type: PurposeInput, required: false }),
  }),
});

const ResolveSecretsPayload = builder
  .objectRef<{
    environment: string;
    arguments: unknown;
    values: ResolvedValue[];
    usageEventPosition: bigint | null;
  }>("ResolveSecretsPayload")
  .implement({
    fields: (t) => ({
      environment: t.exposeString("environment", {
        description: "The environment that was searched",
      }),
      arguments: t.field({
        type: "JSON",
        nullable: true,
        resolve: (p) => p.arguments,
        description: "The arguments with every expression substituted",
      }),
      values: t.field({ type: [ResolvedValueRef], resolve: (p) => p.values }),
      redactions: t.stringList({
        description:
          "Every value handed out, longest first: mask these in logs (see redact() in server/src/resolution/redact.ts)",
        resolve: (p) =>
          [...new Set(p.values.map((v) => v.value))].sort((a, b) => b.length - a.length),
      }),
      usageEventPosition: t.string({
        nullable: true,
        description: "Audit position of the usage event, durable before this answer",
        resolve: (p) => p.usageEventPosition?.toString() ?? null,
      }),
    }),
  });

const toRefs = (refs: readonly { name: string; key: string }[] | null | undefined) =>
  refs?.map((r) => ({ name: r.name, key: r.key })) ?? null;
const userId = (id: string | number | null | undefined) => (id == null ? null : String(id));

builder.mutationField("resolveSecrets", (t) =>
  t.field({
    type: ResolveSecretsPayload,
    description:
      "Resolves an action's secret expressions. Environment: the action's override, else the workflow default, else `default`. Precedence: PERSONAL (on behalf of a user) → WORKSPACE → ORGANIZATION. The usage event is durable before any value is returned. Needs `secrets:resolve`.",
    authScopes: { authenticated: true },
    errors: {
      types: [
        ...COMMAND_ERRORS,
        CredentialNotFoundError,
        OAuthReconnectionRequiredError,
        OAuthProviderError,
        RateLimitedError,
        AuditUnavailableError,
        AwsAssumeRoleError,
        TransitError,
        SecretIntegrityError,
      ],
    },
    args: { input: t.arg({ type: ResolveSecretsInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.resolution.resolve(callerOf(ctx), {
        workspaceId: input.workspaceId == null ? null : localId(input.workspaceId, "Workspace"),
        arguments: input.arguments,
        refs: toRefs(input.refs),
        environment: input.environment ?? null,
        defaultEnvironment: input.defaultEnvironment ?? null,
        onBehalfOfUser: userId(input.onBehalfOfUser),
        purpose: input.purpose ?? null,
      }),
  }),
);

const CheckActionInput = builder.inputType("CheckSecretsActionInput", {
  fields: (t) => ({
    actionRef: t.string({ required: false }),
    arguments: t.field({ type: "JSON", required: false }),
    refs: t.field({ type: [SecretRefInput], required: false }),
    environment: t.string({ required: false }),
  }),
});

const CheckSecretsInput = builder.inputType("CheckSecretsInput", {
  fields: (t) => ({ ...resolutionTarget(t), actions: t.field({ type: [CheckActionInput] }) }),
});

const FoundRef = builder
  .objectRef<{
    name: string;
    key: string;
    scope: "ORGANIZATION" | "WORKSPACE" | "PERSONAL";
    version: number;
  }>("CheckedSecretRef")
  .implement({
    fields: (t) => ({
      ref: t.string({ resolve: (r) => `${r.name}.${r.key}` }),
      scope: t.field({ type: SecretScopeEnum, resolve: (r) => r.scope }),
      version: t.exposeInt("version"),
    }),
  });

const ActionCheck = builder
  .objectRef<{
    actionRef: string | null;
    environment: string;
    found: {
      name: string;
      key: string;
      scope: "ORGANIZATION" | "WORKSPACE" | "PERSONAL";
      version: number;
    }[];
    missing: string[];
    hints: { name: string; environments: string[] }[];
  }>("SecretsCheck")
  .implement({
    fields: (t) => ({
      actionRef: t.exposeString("actionRef", { nullable: true }),
      environment: t.exposeString("environment"),
      ready: t.boolean({ resolve: (c) => c.missing.length === 0 }),
      found: t.field({ type: [FoundRef], resolve: (c) => c.found }),
      missing: t.exposeStringList("missing"),
      hints: t.field({ type: [CredentialHintRef], resolve: (c) => c.hints }),
    }),
  });

builder.queryField("checkSecrets", (t) =>
  t.field({
    type: [ActionCheck],
    description:
      "Before a run: which credentials each action needs and which are missing. No decryption, no usage event. Needs `secrets:resolve`.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CheckSecretsInput }) },
    resolve: (_root, { input }, ctx) => {
      if (input.actions.length > 100)
        throw ValidationError.fromIssues([
          { path: "actions", message: "at most 100 actions per check" },
        ]);
      return ctx.services.resolution.check(callerOf(ctx), {
        workspaceId: input.workspaceId == null ? null : localId(input.workspaceId, "Workspace"),
        defaultEnvironment: input.defaultEnvironment ?? null,
        onBehalfOfUser: userId(input.onBehalfOfUser),
        actions: input.actions.map((a) => ({
          actionRef: a.actionRef ?? null,
          arguments: a.arguments,
          refs: toRefs(a.refs),
          environment: a.environment ?? null,
        })),
      });
    },
  }),
);
