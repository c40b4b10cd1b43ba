import { resolveOffsetConnection } from "@pothos/plugin-relay";
import type { Secret, SecretVersion } from "../../generated/prisma/client.ts";
import { loadSecretAccess } from "../../authz/secretAccess.ts";
import { loadOrgAccess, loadWorkspaceAccess } from "../../authz/access.ts";
import { ForbiddenError } from "../../errors/ForbiddenError.ts";
import {
  CREDENTIAL_TEMPLATES,
  findTemplate,
  type CredentialTemplate,
} from "../../secrets/templates.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { tryLocalId } from "../globalId.ts";
import { OrganizationRef } from "./Organization.ts";
import { UserRef } from "./User.ts";
import { WorkspaceRef } from "./Workspace.ts";
import { isUuid } from "../../domain/uuid.ts";

export const SecretScopeEnum = builder.enumType("SecretScope", {
  values: {
    ORGANIZATION: {
      description:
        "Visible to every workspace of the organization; managed by organization OWNER/ADMIN",
    },
    WORKSPACE: { description: "Shared inside one workspace (the default)" },
    PERSONAL: {
      description: "One user's own credential; used only when a resolution runs on their behalf",
    },
  },
});

export const SecretTypeEnum = builder.enumType("SecretType", {
  values: {
    CUSTOM: { value: "custom", description: "Any keys" },
    SSH_KEY: { value: "ssh_key", description: "PRIVATE_KEY (PEM or OpenSSH)" },
    MTLS: { value: "mtls", description: "TLS_CERTIFICATE and TLS_PRIVATE_KEY" },
    CA_CERT: { value: "ca_cert", description: "CA_CERTIFICATE (one or more PEM certificates)" },
  } as const,
});

const TemplateKeyRef = builder
  .objectRef<{ name: string; description: string }>("CredentialTemplateKey")
  .implement({
    fields: (t) => ({ name: t.exposeString("name"), description: t.exposeString("description") }),
  });

export const CredentialTemplateRef = builder
  .objectRef<CredentialTemplate>("CredentialTemplate")
  .implement({
    description: "A prebuilt credential: the secret name and keys an integration expects",
    fields: (t) => ({
      id: t.exposeString("id"),
      secretName: t.exposeString("secretName"),
      title: t.exposeString("title"),
      description: t.exposeString("description"),
      requiredKeys: t.field({ type: [TemplateKeyRef], resolve: (tpl) => tpl.requiredKeys }),
      optionalKeys: t.field({ type: [TemplateKeyRef], resolve: (tpl) => tpl.optionalKeys }),
      atLeastOneOf: t.stringList({
        description: "When not empty, at least one of these keys is required",
        resolve: (tpl) => tpl.atLeastOneOf ?? [],
      }),
      deprecatedKeys: t.stringList({ resolve: (tpl) => Object.keys(tpl.deprecatedKeys ?? {}) }),
    }),
  });

export const SecretVersionRef = builder.objectRef<SecretVersion>("SecretVersion").implement({
  description: "One immutable version. Its values are never returned.",
  fields: (t) => ({
    version: t.exposeInt("version"),
    keyNames: t.exposeStringList("keyNames"),
    origin: t.exposeString("origin", { description: "CREATED, UPDATED, ROTATED or RESTORED" }),
    restoredFrom: t.exposeInt("restoredFrom", { nullable: true }),
    createdBy: t.exposeString("createdBy", {
      description: "user:<id>, token:<id> or system:<name>",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    pruned: t.boolean({
      description: "Kept as history, but its values are no longer stored",
      resolve: (v) => v.prunedAt !== null,
    }),
    transitKeyVersion: t.exposeInt("keyVersion", {
      nullable: true,
      description: "The transit key version protecting it",
    }),
  }),
});

export const SecretRef = builder.objectRef<Secret>("Secret");

builder.node(SecretRef, {
  description:
    "A secret's metadata. Values are write-only: no field returns them or their ciphertext.",
  id: { resolve: (s) => s.id },
  loadMany: (ids, ctx) => visibleSecrets(ctx, ids),
  fields: (t) => ({
    name: t.exposeString("name"),
    scope: t.field({
      type: SecretScopeEnum,
      resolve: (s) => s.scope as "ORGANIZATION" | "WORKSPACE" | "PERSONAL",
    }),
    environment: t.exposeString("environment"),
    type: t.field({ type: SecretTypeEnum, resolve: (s) => s.type as "custom" }),
    template: t.field({
      type: CredentialTemplateRef,
      nullable: true,
      resolve: (s) => (s.templateId ? (findTemplate(s.templateId) ?? null) : null),
    }),
    description: t.exposeString("description", { nullable: true }),
    keyNames: t.exposeStringList("keyNames"),
    expressions: t.stringList({
      description: "How actions reference each key",
      resolve: (s) => s.keyNames.map((k) => `\${{ SECRETS.${s.name}.${k} }}`),
    }),
    currentVersion: t.exposeInt("currentVersion"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description:
        "When the secret was last resolved, to the second (recentUsage has each use's exact time)",
    }),
    workspace: t.field({
      type: WorkspaceRef,
      nullable: true,
      resolve: (s, _a, ctx) =>
        s.workspaceId ? ctx.db.workspace.findUnique({ where: { id: s.workspaceId } }) : null,
    }),
    organization: t.field({
      type: OrganizationRef,
      resolve: (s, _a, ctx) =>
        ctx.db.organization.findUniqueOrThrow({ where: { id: s.organizationId } }),
    }),
    owner: t.field({
      type: UserRef,
      nullable: true,
      description: "For personal secrets",
      resolve: (s, _a, ctx) =>
        s.ownerUserId
          ? ctx.db.user.findUnique({
              where: { id: s.ownerUserId },
              select: { id: true, email: true, name: true },
            })
          : null,
    }),
    versions: t.loadableGroup({
      type: SecretVersionRef,
      description: "Newest first",
      load: (ids: string[], ctx: Context) =>
        ctx.db.secretVersion.findMany({
          where: { secretId: { in: ids } },
          orderBy: [{ secretId: "asc" }, { version: "desc" }],
        }),
      group: (v) => v.secretId,
      resolve: (s) => s.id,
    }),
  }),
});

const SecretFilter = builder.inputType("SecretFilter", {
  fields: (t) => ({
    environment: t.string({ required: false }),
    scopes: t.field({
      type: [SecretScopeEnum],
      required: false,
      description: "Default: WORKSPACE and your PERSONAL secrets",
    }),
    type: t.field({ type: SecretTypeEnum, required: false }),
    search: t.string({ required: false, description: "Part of the name" }),
  }),
});

builder.objectField(WorkspaceRef, "secrets", (t) =>
  t.connection({
    type: SecretRef,
    description: "Secrets usable in this workspace that the caller may see; needs `secrets:read`",
    args: { filter: t.arg({ type: SecretFilter, required: false }) },
    resolve: async (w, args, ctx) => {
      const access = await loadWorkspaceAccess(ctx.db, ctx.actor!, w.id);
      if (!access?.permissions.has("secrets:read"))
        throw new ForbiddenError('Listing secrets needs the "secrets:read" permission');
      const scopes = args.filter?.scopes ?? ["WORKSPACE", "PERSONAL"];
      const actor = ctx.actor!;
      const scopeKeys = [
        ...(scopes.includes("WORKSPACE") ? [`workspace:${w.id}`] : []),
        ...(scopes.includes("PERSONAL") && actor.kind === "user"
          ? [`personal:${w.id}:${actor.userId}`]
          : []),
        ...(scopes.includes("ORGANIZATION") ? ["organization"] : []),
      ];
      return resolveOffsetConnection({ args }, ({ offset, limit }) =>
        ctx.db.secret.findMany({
          where: {
            organizationId: w.organizationId,
            scopeKey: { in: scopeKeys },
            deletedAt: null,
            ...filterWhere(args.filter),
          },
          orderBy: [{ name: "asc" }, { environment: "asc" }, { scope: "asc" }, { id: "asc" }],
          skip: offset,
          take: limit,
        }),
      );
    },
  }),
);

builder.objectField(OrganizationRef, "secrets", (t) =>
  t.connection({
    type: SecretRef,
    description:
      "Organization-level secrets; for organization OWNER/ADMIN (or tokens with `secrets:read` on the organization)",
    args: { filter: t.arg({ type: SecretFilter, required: false }) },
    resolve: async (o, args, ctx) => {
      const access = await loadOrgAccess(ctx.db, ctx.actor!, o.id);
      if (!access?.permissions.has("secrets:read"))
        throw new ForbiddenError("Organization secrets are for organization owners and admins");
      return resolveOffsetConnection({ args }, ({ offset, limit }) =>
        ctx.db.secret.findMany({
          where: {
            organizationId: o.id,
            scope: "ORGANIZATION",
            deletedAt: null,
            ...filterWhere(args.filter),
          },
          orderBy: [{ name: "asc" }, { environment: "asc" }, { id: "asc" }],
          skip: offset,
          take: limit,
        }),
      );
    },
  }),
);

function filterWhere(
  filter:
    | {
        environment?: string | null | undefined;
        type?: string | null | undefined;
        search?: string | null | undefined;
      }
    | null
    | undefined,
) {
  return {
    ...(filter?.environment ? { environment: filter.environment } : {}),
    ...(filter?.type ? { type: filter.type } : {}),
    ...(filter?.search ? { name: { contains: filter.search.toLowerCase() } } : {}),
  };
}

builder.queryFields((t) => ({
  credentialTemplates: t.field({
    type: [CredentialTemplateRef],
    description: "The prebuilt credential catalogue",
    authScopes: { authenticated: true },
    resolve: () => [...CREDENTIAL_TEMPLATES],
  }),
  secret: t.field({
    type: SecretRef,
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = tryLocalId(args.id, "Secret");
      return id ? ((await visibleSecrets(ctx, [id]))[0] ?? null) : null;
    },
  }),
}));

/** Live secrets by id that the caller may read, in the order asked; null for the rest. */
async function visibleSecrets(ctx: Context, ids: readonly string[]): Promise<(Secret | null)[]> {
  if (!ctx.actor) return ids.map(() => null);
  const rows = await ctx.db.secret.findMany({
    where: { id: { in: ids.filter(isUuid) }, deletedAt: null },
  });
  return Promise.all(
    ids.map(async (id) => {
      const row = rows.find((r) => r.id === id);
      return row &&
        (await loadSecretAccess(ctx.db, ctx.actor!, row))?.permissions.has("secrets:read")
        ? row
        : null;
    }),
  );
}
