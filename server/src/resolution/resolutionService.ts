import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { loadWorkspaceAccess, requirePermission, requireWorkspaceAccess } from "../authz/access.ts";
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_NAME } from "../domain/names.ts";
import { type UsageEvent, type UsagePurpose, type UsedSecret } from "../domain/usage/events.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import type { UsageLog } from "./usageLog.ts";
import type { Logger } from "../logger.ts";
import { SECRET_KEY, SECRET_NAME } from "../secrets/limits.ts";
import { decodeSecretPayload } from "../secrets/secretPayload.ts";
import { organizationKeyName, type Transit } from "../transit/Transit.ts";
import { decryptRereading } from "../secrets/decryptRereading.ts";
import { AuditUnavailableError } from "./AuditUnavailableError.ts";
import { CredentialNotFoundError } from "./CredentialNotFoundError.ts";
import { findSecretRefs, refId, substitute, type SecretRef } from "./expressions.ts";
import {
  choose,
  lookupSecrets,
  otherEnvironments,
  pairKey,
  storedCiphertexts,
  usableScopeKeys,
  type Candidate,
} from "./lookupSecrets.ts";
import type { DynamicCredentials } from "./dynamicCredentials.ts";
import type { OAuthConnection } from "../generated/prisma/client.ts";
import { connectionCandidates, isOAuthName, lookupConnections } from "../oauth/oauthCandidates.ts";
import { OAuthReconnectionRequiredError } from "../oauth/oauthErrors.ts";
import type { OAuthService } from "../oauth/oauthService.ts";
import { oauthTokenKey, parseOAuthRef } from "../oauth/providerId.ts";
import { openSealed } from "../oauth/sealedValues.ts";
import { isUuid } from "../domain/uuid.ts";

export type ResolveInput = {
  workspaceId?: string | null | undefined;
  arguments?: unknown;
  refs?: readonly SecretRef[] | null | undefined;
  environment?: string | null | undefined;
  defaultEnvironment?: string | null | undefined;
  onBehalfOfUser?: string | null | undefined;
  purpose?:
    | {
        workflowId?: string | null | undefined;
        runId?: string | null | undefined;
        actionRef?: string | null | undefined;
      }
    | null
    | undefined;
};

export type ResolvedValue = SecretRef & {
  secretId: string;
  scope: Candidate["scope"];
  environment: string;
  version: number;
  dynamic: string | null;
  value: string;
};

/**
 * What platforms call when an action runs: parse the expressions, look every name up in
 * one query (personal → workspace → organization, in the selected environment), decrypt
 * in one transit batch, mint dynamic credentials, then make the usage event durable —
 * and only then hand the values out (fail-closed).
 */
export function resolutionService(
  deps: CoreDeps & {
    transit: Transit;
    logger: Logger;
    dynamic: DynamicCredentials;
    oauth: Pick<OAuthService, "refreshIfNeeded">;
    usage: Pick<UsageLog, "record">;
  },
) {
  /** The workspace comes from a workspace token; other callers name one they may resolve in. */
  async function target(caller: Caller, input: ResolveInput) {
    const actor = caller.actor;
    const workspaceId =
      actor.kind === "token" && actor.workspaceId ? actor.workspaceId : input.workspaceId;
    if (!workspaceId || (input.workspaceId && input.workspaceId !== workspaceId))
      throw new NotFoundError("Workspace");
    const access = await requireWorkspaceAccess(deps.db, actor, workspaceId);
    requirePermission(access, "secrets:resolve", "Resolving secrets");
    let onBehalfOf: string | null = actor.kind === "user" ? actor.userId : null;
    if (input.onBehalfOfUser) {
      if (actor.kind === "user" && input.onBehalfOfUser !== actor.userId)
        throw new ValidationError("A user resolves on their own behalf only");
      const member = isUuid(input.onBehalfOfUser)
        ? await loadWorkspaceAccess(
            deps.db,
            // A membership check, not a sign-in: the user's own sessions play no part (as
            // if signed in with every factor and the organization's single sign-on).
            {
              kind: "user",
              userId: input.onBehalfOfUser,
              sessionId: "",
              mfa: true,
              ssoOrganizationId: access.organizationId,
            },
            workspaceId,
          )
        : null;
      if (!member)
        throw ValidationError.fromIssues([
          { path: "onBehalfOfUser", message: "is not a member of this workspace" },
        ]);
      onBehalfOf = input.onBehalfOfUser;
    }
    const environment = input.environment ?? input.defaultEnvironment ?? DEFAULT_ENVIRONMENT;
    if (!ENVIRONMENT_NAME.test(environment))
      throw ValidationError.fromIssues([
        { path: "environment", message: "is not a valid environment name" },
      ]);
    return { organizationId: access.organizationId, workspaceId, environment, onBehalfOf };
  }

  function refsOf(input: {
    arguments?: unknown;
    refs?: readonly SecretRef[] | null | undefined;
  }): SecretRef[] {
    const refs = new Map(findSecretRefs(input.arguments ?? null).map((r) => [refId(r), r]));
    for (const ref of input.refs ?? []) {
      if (!SECRET_NAME.test(ref.name) || !SECRET_KEY.test(ref.key)) {
        throw ValidationError.fromIssues([
          {
            path: `refs.${ref.name}.${ref.key}`.slice(0, 160),
            message: "is not a valid secret name and key",
          },
        ]);
      }
      refs.set(refId(ref), { name: ref.name, key: ref.key });
    }
    return [...refs.values()];
  }

  /**
   * Which refs the chosen secrets answer, which are missing, and which names have no
   * secret at all in the environment (only those get "exists elsewhere" hints: for a
   * missing key of an existing secret, another environment is not the answer).
   */
  function match(refs: SecretRef[], environment: string, chosen: Map<string, Candidate>) {
    const found: { ref: SecretRef; secret: Candidate }[] = [];
    const missing: SecretRef[] = [];
    const absent = new Set<string>();
    for (const ref of refs) {
      const secret = chosen.get(pairKey(environment, ref.name));
      if (!secret) absent.add(ref.name);
      if (secret && (secret.keyNames.includes(ref.key) || deps.dynamic.provides(secret, ref.key)))
        found.push({ ref, secret });
      else missing.push(ref);
    }
    return { found, missing, absentNames: [...absent] };
  }

  /**
   * One transit batch for every candidate; the versions looked up are the ones to answer
   * with, so a re-wrap meanwhile means reading their ciphertexts again (decryptRereading).
   */
  function decryptCandidates(organizationId: string, candidates: Candidate[]) {
    return decryptRereading(
      deps.transit,
      organizationKeyName(organizationId),
      candidates.map((c) => c.ciphertext!),
      async (tried) => {
        const stored = await storedCiphertexts(
          deps.db,
          candidates
            .filter((c) => c.source === "secret")
            .map((c) => ({ secretId: c.id, version: c.currentVersion })),
        );
        return candidates.map(
          (c, i) =>
            (c.source === "secret" ? stored.get(`${c.id}:${c.currentVersion}`) : null) ?? tried[i]!,
        );
      },
    );
  }

  /**
   * Appends a usage event and, for successes, its projection through the group commit
   * (usageLog.ts): durable when this returns, in one statement with whatever else the
   * organization's resolutions queued meanwhile.
   */
  async function record(
    organizationId: string,
    workspaceId: string,
    event: UsageEvent,
    caller: Caller,
  ): Promise<bigint> {
    const stored = await deps.usage.record({
      organizationId,
      workspaceId,
      event,
      metadata: caller.metadata,
      now: deps.clock(),
    });
    return stored.position;
  }

  async function fail(
    caller: Caller,
    t: Awaited<ReturnType<typeof target>>,
    purpose: UsagePurpose,
    reason: string,
    missing: string[],
    error: Error,
  ): Promise<never> {
    try {
      await record(
        t.organizationId,
        t.workspaceId,
        {
          type: "SecretsResolutionFailed",
          data: {
            workspaceId: t.workspaceId,
            environment: t.environment,
            onBehalfOf: t.onBehalfOf,
            purpose,
            reason,
            missing,
          },
        },
        caller,
      );
    } catch (auditError) {
      // The token was revoked meanwhile: its holder learns nothing about the credentials.
      if (auditError instanceof UnauthenticatedError) throw auditError;
      deps.logger.error({ err: String(auditError) }, "a failed resolution could not be audited");
    }
    throw error;
  }

  return {
    /**
     * `admitted` settles when the caller's rate limit has been counted (rejecting when it is
     * spent): it runs beside the access check and the lookup, and is awaited before anything
     * costly or observable — OAuth refreshes, the transit call, the usage event.
     */
    async resolve(
      caller: Caller,
      input: ResolveInput,
      admitted: Promise<void> = Promise.resolve(),
    ) {
      const t = await target(caller, input);
      const refs = refsOf(input);
      const purpose: UsagePurpose = {
        workflowId: input.purpose?.workflowId ?? null,
        runId: input.purpose?.runId ?? null,
        actionRef: input.purpose?.actionRef ?? null,
      };
      if (refs.length === 0) {
        await admitted;
        return {
          environment: t.environment,
          arguments: input.arguments ?? null,
          values: [] as ResolvedValue[],
          usageEventPosition: null,
        };
      }

      const scopeKeys = usableScopeKeys(t.workspaceId, t.onBehalfOf);
      const secretRefs = refs.filter((r) => !isOAuthName(r.name));
      const oauthRefs = refs.filter((r) => isOAuthName(r.name));
      const names = [...new Set(secretRefs.map((r) => r.name))];
      const candidates = await lookupSecrets(deps.db, {
        organizationId: t.organizationId,
        scopeKeys,
        pairs: names.map((name) => ({ environment: t.environment, name })),
        withCiphertext: true,
      });
      await admitted;
      const { found, missing, absentNames } = match(secretRefs, t.environment, choose(candidates));

      // `<provider>_oauth.<PROVIDER>_USER_TOKEN` / `_SERVICE_TOKEN`: the workspace's connections.
      const connections = oauthRefs.length
        ? await lookupConnections(deps.db, {
            workspaceId: t.workspaceId,
            environment: t.environment,
            names: [...new Set(oauthRefs.map((r) => r.name))],
          })
        : [];
      const oauthFound: { ref: SecretRef; connection: OAuthConnection }[] = [];
      for (const ref of oauthRefs) {
        const parsed = parseOAuthRef(ref.name, ref.key)!;
        const connection = connections.find(
          (c) =>
            c.providerId === parsed.providerId &&
            c.kind === parsed.kind &&
            ref.key === oauthTokenKey(parsed.providerId, parsed.kind),
        );
        if (connection) oauthFound.push({ ref, connection });
        else missing.push(ref);
      }

      if (missing.length > 0) {
        const hints = await otherEnvironments(
          deps.db,
          t.organizationId,
          scopeKeys,
          absentNames,
          t.environment,
        );
        const declared =
          (await deps.db.environment.count({
            where: { workspaceId: t.workspaceId, name: t.environment },
          })) > 0;
        const ids = missing.map(refId);
        return fail(
          caller,
          t,
          purpose,
          "credential_not_found",
          ids,
          new CredentialNotFoundError(t.environment, ids, hints, declared),
        );
      }

      // Tokens about to expire are refreshed first (once, under a row lock).
      const fresh = new Map<string, OAuthConnection>();
      for (const { ref, connection } of oauthFound) {
        if (fresh.has(connection.id)) continue;
        try {
          if (connection.status !== "CONNECTED")
            throw new OAuthReconnectionRequiredError(connection.providerId, connection.environment);
          fresh.set(connection.id, await deps.oauth.refreshIfNeeded(connection));
        } catch (error) {
          return fail(
            caller,
            t,
            purpose,
            "oauth_reconnection_required",
            [refId(ref)],
            error as Error,
          );
        }
      }
      const oauthCandidates = connectionCandidates([...fresh.values()]);
      for (const { ref, connection } of oauthFound)
        found.push({ ref, secret: oauthCandidates.find((c) => c.id === connection.id)! });

      // One transit call for every secret and token used.
      const secrets = [...new Map(found.map((f) => [f.secret.id, f.secret])).values()];
      let valuesBySecret: Map<string, Record<string, string>>;
      try {
        const plaintexts = await decryptCandidates(t.organizationId, secrets);
        valuesBySecret = new Map(
          secrets.map((s, i) => [
            s.id,
            s.source === "oauth"
              ? {
                  [s.keyNames[0]!]: openSealed(plaintexts[i]!, {
                    organizationId: t.organizationId,
                    ownerId: s.id,
                    field: "access_token",
                  }),
                }
              : decodeSecretPayload(plaintexts[i]!, {
                  organizationId: t.organizationId,
                  secretId: s.id,
                  version: s.currentVersion,
                }),
          ]),
        );
      } catch (error) {
        // Vault down or refusing, a tampered document: the attempt is audited like any
        // other failed resolution (DESIGN §5), then the caller gets the typed error.
        return fail(
          caller,
          t,
          purpose,
          "decryption_failed",
          found.map((f) => refId(f.ref)),
          error as Error,
        );
      }

      // Dynamic credentials (AWS role assumption) replace stored ones before anything is recorded.
      const dynamicKinds = new Map<string, string>();
      for (const secret of secrets) {
        if (secret.source !== "secret") continue;
        const keys = found.filter((f) => f.secret.id === secret.id).map((f) => f.ref.key);
        try {
          const minted = await deps.dynamic.mint(secret, valuesBySecret.get(secret.id)!, keys, {
            workspaceId: t.workspaceId,
            runId: purpose.runId,
          });
          if (minted) {
            valuesBySecret.set(secret.id, minted.values);
            dynamicKinds.set(secret.id, minted.kind);
          }
        } catch (error) {
          return fail(
            caller,
            t,
            purpose,
            "dynamic_credentials_failed",
            keys.map((k) => `${secret.name}.${k}`),
            error as Error,
          );
        }
      }

      const used: UsedSecret[] = secrets.map((s) => ({
        secretId: s.id,
        name: s.name,
        scope: s.scope,
        environment: s.environment,
        version: s.currentVersion,
        keyNames: found
          .filter((f) => f.secret.id === s.id)
          .map((f) => f.ref.key)
          .sort(),
        dynamic: s.source === "oauth" ? "oauth" : (dynamicKinds.get(s.id) ?? null),
      }));
      let position: bigint | null = null;
      try {
        position = await record(
          t.organizationId,
          t.workspaceId,
          {
            type: "SecretsResolved",
            data: {
              workspaceId: t.workspaceId,
              environment: t.environment,
              onBehalfOf: t.onBehalfOf,
              purpose,
              secrets: used,
            },
          },
          caller,
        );
        // Outside the usage transaction (see projectUsage), best effort: it is a hint for
        // the console, not audit evidence (the event above is).
        const oauthUsed = used.filter((u) => u.dynamic === "oauth").map((u) => u.secretId);
        if (oauthUsed.length) {
          deps.db
            .$executeRaw`UPDATE oauth_connections SET last_used_at = now() WHERE id = ANY(${oauthUsed}::uuid[])`.catch(
            (error: unknown) =>
              deps.logger.warn(
                { err: String(error) },
                "could not note an OAuth connection's last use",
              ),
          );
        }
      } catch (error) {
        // Its token was revoked before the event could commit: refused, not an outage.
        if (error instanceof UnauthenticatedError) throw error;
        deps.logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          "usage event not recorded; no values returned",
        );
        throw new AuditUnavailableError();
      }

      // Only now, with the usage durable, do values leave.
      const values: ResolvedValue[] = found.map(({ ref, secret }) => ({
        ...ref,
        secretId: secret.id,
        scope: secret.scope,
        environment: secret.environment,
        version: secret.currentVersion,
        dynamic: secret.source === "oauth" ? "oauth" : (dynamicKinds.get(secret.id) ?? null),
        value: valuesBySecret.get(secret.id)![ref.key]!,
      }));
      const byRef = new Map(values.map((v) => [refId(v), v.value]));
      return {
        environment: t.environment,
        arguments:
          input.arguments === undefined
            ? null
            : substitute(input.arguments, (ref) => byRef.get(refId(ref))!),
        values,
        usageEventPosition: position as bigint | null,
      };
    },

    /** The same parsing and lookup, per action, without decrypting or recording anything. */
    async check(
      caller: Caller,
      input: Omit<ResolveInput, "arguments" | "refs" | "environment" | "purpose"> & {
        actions: {
          actionRef?: string | null;
          arguments?: unknown;
          refs?: readonly SecretRef[] | null;
          environment?: string | null;
        }[];
      },
    ) {
      const base = await target(caller, { ...input, environment: null });
      const scopeKeys = usableScopeKeys(base.workspaceId, base.onBehalfOf);
      const actions = input.actions.map((action, i) => {
        const environment = action.environment ?? base.environment;
        if (!ENVIRONMENT_NAME.test(environment))
          throw ValidationError.fromIssues([
            { path: `actions[${i}].environment`, message: "is not a valid environment name" },
          ]);
        let refs: SecretRef[];
        try {
          refs = refsOf(action);
        } catch (error) {
          if (error instanceof ValidationError)
            throw ValidationError.fromIssues(
              error.issues.map((issue) => ({ ...issue, path: `actions[${i}].${issue.path}` })),
            );
          throw error;
        }
        return { actionRef: action.actionRef ?? null, environment, refs };
      });
      const pairs = [
        ...new Map(
          actions.flatMap((a) =>
            a.refs.map((r) => [
              pairKey(a.environment, r.name),
              { environment: a.environment, name: r.name },
            ]),
          ),
        ).values(),
      ];
      const chosen = choose(
        await lookupSecrets(deps.db, {
          organizationId: base.organizationId,
          scopeKeys,
          pairs,
          withCiphertext: false,
        }),
      );
      return Promise.all(
        actions.map(async (action) => {
          const { found, missing, absentNames } = match(action.refs, action.environment, chosen);
          return {
            actionRef: action.actionRef,
            environment: action.environment,
            found: found.map(({ ref, secret }) => ({
              ...ref,
              scope: secret.scope,
              version: secret.currentVersion,
            })),
            missing: missing.map(refId),
            hints: absentNames.length
              ? await otherEnvironments(
                  deps.db,
                  base.organizationId,
                  scopeKeys,
                  absentNames,
                  action.environment,
                )
              : [],
          };
        }),
      );
    },
  };
}

export type ResolutionService = ReturnType<typeof resolutionService>;
