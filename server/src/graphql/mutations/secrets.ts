import type { Secret } from "../../generated/prisma/client.ts";
import { SecretIntegrityError } from "../../secrets/secretPayload.ts";
import type { SecretTarget } from "../../secrets/secretService.ts";
import { TransitError } from "../../transit/TransitError.ts";
import { ValidationError } from "../../errors/ValidationError.ts";
import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { SecretRef, SecretScopeEnum, SecretTypeEnum } from "../types/Secret.ts";

/** Secret commands can also fail in the transit engine, or on a stored version's integrity check. */
const SECRET_ERRORS = [...COMMAND_ERRORS, TransitError, SecretIntegrityError];

const SecretValueInput = builder.inputType("SecretValueInput", {
  description: "A key and its value. Values are write-only: they are never returned.",
  fields: (t) => ({ key: t.string(), value: t.string() }),
});

const SecretPayload = builder
  .objectRef<{ secret: Secret; warnings: string[] }>("SecretPayload")
  .implement({
    fields: (t) => ({
      secret: t.field({ type: SecretRef, resolve: (p) => p.secret }),
      warnings: t.exposeStringList("warnings", {
        description: "e.g. deprecated keys that were accepted",
      }),
    }),
  });

const targetFields = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  scope: t.field({ type: SecretScopeEnum, required: false, description: "Default WORKSPACE" }),
  workspaceId: t.id({ required: false, description: "For WORKSPACE and PERSONAL secrets" }),
  organizationId: t.id({ required: false, description: "For ORGANIZATION secrets" }),
  environment: t.string({
    required: false,
    description: "Default `default`; must be declared in the workspace",
  }),
});

function targetOf(input: {
  scope?: "ORGANIZATION" | "WORKSPACE" | "PERSONAL" | null | undefined;
  workspaceId?: string | number | null | undefined;
  organizationId?: string | number | null | undefined;
}): SecretTarget {
  const scope = input.scope ?? "WORKSPACE";
  if (scope === "ORGANIZATION") {
    if (input.organizationId == null || input.workspaceId != null) {
      throw ValidationError.fromIssues([
        {
          path: "organizationId",
          message: "an ORGANIZATION secret takes organizationId (and no workspaceId)",
        },
      ]);
    }
    return { scope, organizationId: localId(input.organizationId, "Organization") };
  }
  if (input.workspaceId == null || input.organizationId != null) {
    throw ValidationError.fromIssues([
      {
        path: "workspaceId",
        message: `a ${scope} secret takes workspaceId (and no organizationId)`,
      },
    ]);
  }
  return { scope, workspaceId: localId(input.workspaceId, "Workspace") };
}

const CreateSecretInput = builder.inputType("CreateSecretInput", {
  fields: (t) => ({
    ...targetFields(t),
    name: t.string({ description: "`^[a-z0-9][a-z0-9_-]{0,127}$`, e.g. `github-pat`" }),
    type: t.field({ type: SecretTypeEnum, required: false, description: "Default CUSTOM" }),
    description: t.string({ required: false }),
    values: t.field({ type: [SecretValueInput] }),
  }),
});

builder.mutationField("createSecret", (t) =>
  t.field({
    type: SecretPayload,
    authScopes: { authenticated: true },
    errors: { types: SECRET_ERRORS },
    args: { input: t.arg({ type: CreateSecretInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.secrets.create(callerOf(ctx), targetOf(input), {
        name: input.name,
        environment: input.environment ?? null,
        type: input.type ?? "custom",
        description: input.description ?? null,
        values: input.values,
      }),
  }),
);

const ConfigureCredentialInput = builder.inputType("ConfigureCredentialInput", {
  fields: (t) => ({
    ...targetFields(t),
    templateId: t.string({ description: "From `credentialTemplates`, e.g. `slack`" }),
    values: t.field({ type: [SecretValueInput] }),
    expectedVersion: t.int({
      required: false,
      description:
        "0: refuse (ConflictError) if the credential exists already; N: refuse unless it exists at version N (a replace); omitted: create it or add a version",
    }),
  }),
});

builder.mutationField("configureCredential", (t) =>
  t.field({
    type: SecretPayload,
    description:
      "Creates (or adds a version to) the template's secret, validated against the template",
    authScopes: { authenticated: true },
    errors: { types: SECRET_ERRORS },
    args: { input: t.arg({ type: ConfigureCredentialInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.secrets.configureCredential(callerOf(ctx), targetOf(input), {
        templateId: input.templateId,
        environment: input.environment ?? null,
        values: input.values,
        expectedVersion: input.expectedVersion ?? null,
      }),
  }),
);

const UpdateSecretInput = builder.inputType("UpdateSecretInput", {
  fields: (t) => ({
    id: t.id(),
    set: t.field({
      type: [SecretValueInput],
      required: false,
      description: "Keys to add or overwrite",
    }),
    remove: t.stringList({ required: false, description: "Keys to remove" }),
    expectedVersion: t.int({
      required: false,
      description: "Refuse (ConflictError) unless the secret is still at this version",
    }),
  }),
});

builder.mutationField("updateSecret", (t) =>
  t.field({
    type: SecretPayload,
    description: "A merge: keys not mentioned keep their values. Writes a new version.",
    authScopes: { authenticated: true },
    errors: { types: SECRET_ERRORS },
    args: { input: t.arg({ type: UpdateSecretInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.secrets.update(callerOf(ctx), localId(input.id, "Secret"), {
        set: input.set ?? [],
        remove: input.remove ?? [],
        expectedVersion: input.expectedVersion ?? null,
      }),
  }),
);

const RotateSecretInput = builder.inputType("RotateSecretInput", {
  fields: (t) => ({
    id: t.id(),
    values: t.field({ type: [SecretValueInput], description: "The complete new set of values" }),
    expectedVersion: t.int({ required: false }),
  }),
});

builder.mutationField("rotateSecret", (t) =>
  t.field({
    type: SecretPayload,
    description: "New values under the same name; references keep working",
    authScopes: { authenticated: true },
    errors: { types: SECRET_ERRORS },
    args: { input: t.arg({ type: RotateSecretInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.secrets.rotate(callerOf(ctx), localId(input.id, "Secret"), {
        values: input.values,
        expectedVersion: input.expectedVersion ?? null,
      }),
  }),
);

const RestoreSecretVersionInput = builder.inputType("RestoreSecretVersionInput", {
  fields: (t) => ({ id: t.id(), version: t.int(), expectedVersion: t.int({ required: false }) }),
});

builder.mutationField("restoreSecretVersion", (t) =>
  t.field({
    type: SecretRef,
    description: "Makes an older version's values current again, as a new version",
    authScopes: { authenticated: true },
    errors: { types: SECRET_ERRORS },
    args: { input: t.arg({ type: RestoreSecretVersionInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.secrets.restore(callerOf(ctx), localId(input.id, "Secret"), {
        fromVersion: input.version,
        expectedVersion: input.expectedVersion ?? null,
      }),
  }),
);

const DeletedSecret = builder.objectRef<Secret>("DeletedSecret").implement({
  description:
    "A revoked secret: resolution fails with credential_not_found; its history stays in the audit log",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    environment: t.exposeString("environment"),
    deletedAt: t.expose("deletedAt", { type: "DateTime", nullable: true }),
  }),
});

builder.mutationField("deleteSecret", (t) =>
  t.field({
    type: DeletedSecret,
    authScopes: { authenticated: true },
    errors: { types: SECRET_ERRORS },
    args: { id: t.arg.id() },
    resolve: (_root, args, ctx) =>
      ctx.services.secrets.delete(callerOf(ctx), localId(args.id, "Secret")),
  }),
);

builder.mutationField("shareSecret", (t) =>
  t.field({
    type: SecretRef,
    description: "Turns your personal secret into a workspace secret",
    authScopes: { user: true },
    errors: { types: SECRET_ERRORS },
    args: { id: t.arg.id() },
    resolve: (_root, args, ctx) =>
      ctx.services.secrets.share(callerOf(ctx), localId(args.id, "Secret")),
  }),
);
