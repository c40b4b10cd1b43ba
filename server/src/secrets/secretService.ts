import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { requireOrgAccess, requirePermission, requireWorkspaceAccess } from "../authz/access.ts";
import { requireSecret } from "../authz/secretAccess.ts";
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_NAME } from "../domain/names.ts";
import type { Permission } from "../domain/roles.ts";
import {
  SecretVersionConflictError,
  secretDecider,
  type SecretCommand,
} from "../domain/secret/decide.ts";
import {
  secretStream,
  type SecretEvent,
  type SecretScope,
  type SecretType,
} from "../domain/secret/events.ts";
import type { Secret } from "../generated/prisma/client.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { ConcurrencyError } from "../eventstore/ConcurrencyError.ts";
import { executeCommand, oneTransaction } from "../eventstore/executeCommand.ts";
import { parseInput } from "../tenancy/parseInput.ts";
import { ciphertextKeyVersion, organizationKeyName, type Transit } from "../transit/Transit.ts";
import { decryptRereading } from "./decryptRereading.ts";
import { DEFAULT_KEEP_VERSIONS, MAX_DESCRIPTION, SECRET_NAME } from "./limits.ts";
import { StaleCiphertextError, projectSecret, type NewVersionCiphertext } from "./projectSecret.ts";
import { decodeSecretPayload, encodeSecretPayload } from "./secretPayload.ts";
import { SECRET_TYPES } from "./secretTypes.ts";
import { findTemplate } from "./templates.ts";
import { collectValues, validateSecretValues, type SecretValueInput } from "./validateValues.ts";

export type SecretTarget =
  | { scope: "ORGANIZATION"; organizationId: string }
  | { scope: "WORKSPACE" | "PERSONAL"; workspaceId: string };

const nameSchema = z
  .string()
  .regex(
    SECRET_NAME,
    "lowercase letters, digits, '_' and '-', starting with a letter or digit (at most 128)",
  );
const descriptionSchema = z
  .string()
  .max(MAX_DESCRIPTION, `at most ${MAX_DESCRIPTION} characters`)
  .nullish();

/** Writers racing on one secret retry on a fresh read this many times before giving up. */
const MAX_ATTEMPTS = 40;

/**
 * Secrets: resolve tenant → authorize → validate → encrypt (outside any transaction) →
 * decide + project + append (one transaction). Values exist in this process only while a
 * command runs; what is stored is the transit ciphertext of a document that names its
 * own secret, version and organization.
 */
export function secretService(deps: CoreDeps & { transit: Transit; keepVersions?: number }) {
  const keepVersions = deps.keepVersions ?? DEFAULT_KEEP_VERSIONS;
  const knownKeys = new Set<string>();

  async function ensureKey(organizationId: string): Promise<string> {
    const name = organizationKeyName(organizationId);
    if (!knownKeys.has(name)) {
      await deps.transit.createKey(name);
      knownKeys.add(name);
    }
    return name;
  }

  async function encryptVersion(
    organizationId: string,
    secretId: string,
    version: number,
    values: Record<string, string>,
    createdBy: string,
  ): Promise<NewVersionCiphertext> {
    const key = await ensureKey(organizationId);
    const [ciphertext] = await deps.transit.encrypt(key, [
      encodeSecretPayload({ organizationId, secretId, version }, values),
    ]);
    return { ciphertext: ciphertext!, keyVersion: ciphertextKeyVersion(ciphertext!), createdBy };
  }

  /** The values of one stored version, after checking the document belongs to it. */
  async function decryptVersion(
    secret: Pick<Secret, "id" | "organizationId">,
    version: number,
  ): Promise<Record<string, string>> {
    const read = async () => {
      const row = await deps.db.secretVersion.findUnique({
        where: { secretId_version: { secretId: secret.id, version } },
        select: { ciphertext: true },
      });
      if (!row) throw new NotFoundError(`Version ${version}`);
      if (!row.ciphertext)
        throw new ValidationError(`Version ${version} was pruned: its values are no longer kept`);
      return row.ciphertext;
    };
    const [plaintext] = await decryptRereading(
      deps.transit,
      organizationKeyName(secret.organizationId),
      [await read()],
      async () => [await read()],
    );
    return decodeSecretPayload(plaintext!, {
      organizationId: secret.organizationId,
      secretId: secret.id,
      version,
    });
  }

  const createdBy = (caller: Caller) => `${caller.metadata.actor.kind}:${caller.metadata.actor.id}`;

  async function commit(
    caller: Caller,
    secretId: string,
    organizationId: string,
    command: SecretCommand,
    newVersion?: NewVersionCiphertext,
  ): Promise<{ events: SecretEvent[]; secret: Secret }> {
    return oneTransaction(deps.db, async (tx) => {
      const result = await executeCommand(tx, {
        streamId: secretStream(secretId),
        organizationId,
        decider: secretDecider,
        command,
        metadata: caller.metadata,
        now: deps.clock(),
        project: projectSecret(secretId, organizationId, newVersion),
      });
      return {
        events: result.events.map((e) => ({ type: e.type, data: e.data }) as SecretEvent),
        // Read under the chain lock, before it is released: the secret as this command
        // left it, not as a later writer may have left it by the time we answer.
        secret: await tx.secret.findUniqueOrThrow({ where: { id: secretId } }),
      };
    });
  }

  /**
   * A change to an existing secret. `prepare` sees the secret as just read and returns
   * the command and, for a new version, its complete values. When another writer gets in
   * first we read again and prepare again, unless the caller pinned `expectedVersion`.
   */
  async function change(
    caller: Caller,
    secretId: string,
    permission: Permission,
    what: string,
    expectedVersion: number | null | undefined,
    prepare: (
      secret: Secret,
    ) => Promise<{ command: SecretCommand; values?: Record<string, string> }>,
  ): Promise<Secret> {
    for (let attempt = 1; ; attempt++) {
      const { secret } = await requireSecret(deps.db, caller.actor, secretId, permission, what);
      if (expectedVersion != null && expectedVersion !== secret.currentVersion) {
        throw new SecretVersionConflictError(
          `The secret changed meanwhile: it is at version ${secret.currentVersion}, not ${expectedVersion}`,
        );
      }
      const { command, values } = await prepare(secret);
      const newVersion = values
        ? await encryptVersion(
            secret.organizationId,
            secret.id,
            secret.currentVersion + 1,
            values,
            createdBy(caller),
          )
        : undefined;
      try {
        return (await commit(caller, secret.id, secret.organizationId, command, newVersion)).secret;
      } catch (error) {
        if (error instanceof StaleCiphertextError && attempt < MAX_ATTEMPTS) continue;
        const raced =
          error instanceof ConcurrencyError || error instanceof SecretVersionConflictError;
        if (!raced || expectedVersion != null) throw error;
        if (attempt >= MAX_ATTEMPTS)
          throw new SecretVersionConflictError(
            "The secret is being changed by others right now; try again",
          );
        await sleep(Math.random() * 5 * attempt);
      }
    }
  }

  function checkEnvironmentName(environment: string) {
    if (!ENVIRONMENT_NAME.test(environment))
      throw ValidationError.fromIssues([
        {
          path: "environment",
          message:
            "must start with a letter or digit and contain only letters, digits, '_', '.', '-' (at most 64)",
        },
      ]);
  }

  /** Where a new secret goes, after checking the caller may write there. */
  async function resolveTarget(caller: Caller, target: SecretTarget, environment: string) {
    if (target.scope === "ORGANIZATION") {
      const access = await requireOrgAccess(deps.db, caller.actor, target.organizationId);
      requirePermission(access, "secrets:write", "Managing organization secrets");
      checkEnvironmentName(environment);
      return { organizationId: target.organizationId, workspaceId: null, ownerUserId: null };
    }
    const access = await requireWorkspaceAccess(deps.db, caller.actor, target.workspaceId);
    requirePermission(access, "secrets:write", "Writing secrets");
    if (target.scope === "PERSONAL" && caller.actor.kind !== "user")
      throw new ForbiddenError("Personal secrets belong to users; API tokens cannot own them");
    // Checked before the name is quoted back in "not declared" below.
    checkEnvironmentName(environment);
    const declared = (
      await deps.db.environment.findMany({
        where: { workspaceId: target.workspaceId },
        select: { name: true },
        orderBy: { name: "asc" },
      })
    ).map((e) => e.name);
    if (!declared.includes(environment)) {
      throw ValidationError.fromIssues([
        {
          path: "environment",
          message: `"${environment}" is not declared in this workspace; declared: ${declared.join(", ")}`,
        },
      ]);
    }
    return {
      organizationId: access.organizationId,
      workspaceId: target.workspaceId,
      ownerUserId:
        target.scope === "PERSONAL" && caller.actor.kind === "user" ? caller.actor.userId : null,
    };
  }

  async function create(
    caller: Caller,
    target: SecretTarget,
    input: {
      name: string;
      environment?: string | null | undefined;
      type: SecretType;
      templateId: string | null;
      description?: string | null | undefined;
      values: readonly SecretValueInput[];
    },
  ) {
    const name = parseInput(nameSchema, input.name);
    const description = parseInput(descriptionSchema, input.description) ?? null;
    const environment = input.environment ?? DEFAULT_ENVIRONMENT;
    const owner = await resolveTarget(caller, target, environment);
    const { values, warnings } = validateSecretValues(
      input.type,
      input.templateId,
      collectValues(input.values),
    );
    const secretId = deps.newId();
    const command: SecretCommand = {
      type: "CreateSecret",
      secretId,
      ...owner,
      scope: target.scope satisfies SecretScope,
      environment,
      name,
      secretType: input.type,
      templateId: input.templateId,
      description,
      keyNames: Object.keys(values).sort(),
    };
    for (let attempt = 1; ; attempt++) {
      const newVersion = await encryptVersion(
        owner.organizationId,
        secretId,
        1,
        values,
        createdBy(caller),
      );
      try {
        const { secret } = await commit(
          caller,
          secretId,
          owner.organizationId,
          command,
          newVersion,
        );
        return { secret, warnings };
      } catch (error) {
        // The key was rotated and re-wrapped between encrypting and committing: re-encrypt.
        if (!(error instanceof StaleCiphertextError) || attempt >= 3) throw error;
      }
    }
  }

  return {
    create: (
      caller: Caller,
      target: SecretTarget,
      input: {
        name: string;
        environment?: string | null;
        type: SecretType;
        description?: string | null;
        values: readonly SecretValueInput[];
      },
    ) => {
      if (!SECRET_TYPES[input.type])
        throw ValidationError.fromIssues([{ path: "type", message: "unknown secret type" }]);
      return create(caller, target, { ...input, templateId: null });
    },

    /**
     * Prebuilt credentials: the template fixes the secret name and keys. Configuring one
     * that exists in that scope and environment writes a new version (keys not given stay).
     * `expectedVersion` makes it explicit: 0 only creates, N only replaces version N, so a
     * form that showed what exists never overwrites a change made meanwhile.
     */
    async configureCredential(
      caller: Caller,
      target: SecretTarget,
      input: {
        templateId: string;
        environment?: string | null;
        values: readonly SecretValueInput[];
        expectedVersion?: number | null;
      },
    ) {
      const template = findTemplate(input.templateId);
      if (!template)
        throw ValidationError.fromIssues([
          { path: "templateId", message: `unknown template "${input.templateId}"` },
        ]);
      const environment = input.environment ?? DEFAULT_ENVIRONMENT;
      const owner = await resolveTarget(caller, target, environment);
      const existing = await deps.db.secret.findFirst({
        where: {
          organizationId: owner.organizationId,
          workspaceId: owner.workspaceId,
          ownerUserId: owner.ownerUserId,
          scope: target.scope,
          environment,
          name: template.secretName,
          deletedAt: null,
        },
        select: { id: true, currentVersion: true },
      });
      const expected = input.expectedVersion ?? null;
      if (!existing && expected !== null && expected !== 0)
        throw new SecretVersionConflictError(
          `${template.secretName} no longer exists in ${environment}; it was not created again`,
        );
      if (existing && expected === 0)
        throw new SecretVersionConflictError(
          `${template.secretName} already exists in ${environment} (version ${existing.currentVersion}): replace it with expectedVersion ${existing.currentVersion}`,
        );
      if (!existing)
        return create(caller, target, {
          name: template.secretName,
          environment,
          type: "custom",
          templateId: template.id,
          description: template.title,
          values: input.values,
        });
      let warnings: string[] = [];
      const secret = await change(
        caller,
        existing.id,
        "secrets:write",
        "Writing secrets",
        expected,
        async (current) => {
          const merged = {
            ...(await decryptVersion(current, current.currentVersion)),
            ...collectValues(input.values),
          };
          const checked = validateSecretValues("custom", template.id, merged);
          warnings = checked.warnings;
          const setKeys = input.values.map((v) => v.key).sort();
          return {
            command: {
              type: "UpdateSecret",
              secretId: current.id,
              expectedVersion: current.currentVersion,
              keepVersions,
              keyNames: Object.keys(checked.values).sort(),
              setKeys,
              removedKeys: [],
            },
            values: checked.values,
          };
        },
      );
      return { secret, warnings };
    },

    /** A merge: `set` keys are written, `remove` keys dropped, every other key kept. */
    async update(
      caller: Caller,
      secretId: string,
      input: {
        set: readonly SecretValueInput[];
        remove: readonly string[];
        expectedVersion?: number | null;
      },
    ) {
      const set = collectValues(input.set, "set");
      const remove = [...new Set(input.remove)];
      const both = remove.filter((k) => k in set);
      if (both.length)
        throw ValidationError.fromIssues(
          both.map((k) => ({ path: `remove.${k}`, message: "is also being set" })),
        );
      let warnings: string[] = [];
      const secret = await change(
        caller,
        secretId,
        "secrets:write",
        "Writing secrets",
        input.expectedVersion,
        async (current) => {
          const merged = await decryptVersion(current, current.currentVersion);
          const unknown = remove.filter((k) => !(k in merged));
          if (unknown.length)
            throw ValidationError.fromIssues(
              unknown.map((k) => ({ path: `remove.${k}`, message: "is not a key of this secret" })),
            );
          for (const key of remove) delete merged[key];
          const checked = validateSecretValues(current.type as SecretType, current.templateId, {
            ...merged,
            ...set,
          });
          warnings = checked.warnings;
          return {
            command: {
              type: "UpdateSecret",
              secretId: current.id,
              expectedVersion: current.currentVersion,
              keepVersions,
              keyNames: Object.keys(checked.values).sort(),
              setKeys: Object.keys(set).sort(),
              removedKeys: remove.sort(),
            },
            values: checked.values,
          };
        },
      );
      return { secret, warnings };
    },

    /** New values under the same name (seed 004: "rotate without changing the slug"). */
    async rotate(
      caller: Caller,
      secretId: string,
      input: { values: readonly SecretValueInput[]; expectedVersion?: number | null },
    ) {
      const given = collectValues(input.values);
      let warnings: string[] = [];
      const secret = await change(
        caller,
        secretId,
        "secrets:write",
        "Writing secrets",
        input.expectedVersion,
        async (current) => {
          const checked = validateSecretValues(
            current.type as SecretType,
            current.templateId,
            given,
          );
          warnings = checked.warnings;
          return {
            command: {
              type: "RotateSecret",
              secretId: current.id,
              expectedVersion: current.currentVersion,
              keepVersions,
              keyNames: Object.keys(checked.values).sort(),
            },
            values: checked.values,
          };
        },
      );
      return { secret, warnings };
    },

    /** Makes an older version's values current again, as a new version. */
    restore: (
      caller: Caller,
      secretId: string,
      input: { fromVersion: number; expectedVersion?: number | null },
    ) =>
      change(
        caller,
        secretId,
        "secrets:write",
        "Writing secrets",
        input.expectedVersion,
        async (current) => ({
          command: {
            type: "RestoreSecretVersion",
            secretId: current.id,
            expectedVersion: current.currentVersion,
            keepVersions,
            fromVersion: input.fromVersion,
          },
          values: await decryptVersion(current, input.fromVersion),
        }),
      ),

    /** Revokes: resolution then fails with credential_not_found; history stays. */
    delete: (caller: Caller, secretId: string) =>
      change(caller, secretId, "secrets:write", "Deleting secrets", null, async (current) => ({
        command: {
          type: "DeleteSecret",
          secretId: current.id,
          name: current.name,
          environment: current.environment,
        },
      })),

    /** Turns the caller's personal secret into a workspace secret. */
    share: (caller: Caller, secretId: string) =>
      change(caller, secretId, "secrets:write", "Sharing secrets", null, async (current) => {
        if (caller.actor.kind !== "user")
          throw new ForbiddenError("Only the owner can share a personal secret");
        return {
          command: { type: "ShareSecret", secretId: current.id, byUserId: caller.actor.userId },
        };
      }),

    decryptVersion,
    ensureKey,
  };
}

export type SecretService = ReturnType<typeof secretService>;
