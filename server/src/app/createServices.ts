import type { CoreDeps } from "../CoreDeps.ts";
import { sessionService } from "../auth/sessions.ts";
import { secretService } from "../secrets/secretService.ts";
import type { Transit } from "../transit/Transit.ts";
import type { Logger } from "../logger.ts";
import { transitKeyService } from "../secrets/transitKeyService.ts";
import { createRewrapRunner } from "../secrets/rewrapRunner.ts";
import { noDynamicCredentials, type DynamicCredentials } from "../resolution/dynamicCredentials.ts";
import { resolutionService, type ResolutionService } from "../resolution/resolutionService.ts";
import { createUsageLog } from "../resolution/usageLog.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { Egress } from "../net/egress.ts";
import type { RateLimits } from "../ops/rateLimits.ts";
import { oauthService } from "../oauth/oauthService.ts";
import { webhookService } from "../webhooks/webhookService.ts";
import { apiTokenService } from "../tenancy/apiTokens.ts";
import { mfaService } from "../auth/mfaService.ts";
import { organizationService } from "../tenancy/organizations.ts";
import { workspaceService } from "../tenancy/workspaces.ts";
import { invitationService } from "../tenancy/invitations.ts";
import { ssoService } from "../sso/ssoService.ts";

export type Services = ReturnType<typeof createServices>;

export function createServices(
  deps: CoreDeps,
  options: {
    sessionTtlMs: number;
    invitationTtlMs: number;
    transit: Transit;
    logger: Logger;
    keepVersions?: number | undefined;
    dynamic?: DynamicCredentials | undefined;
    publicUrl: () => string;
    /** The egress guards for OAuth endpoints and webhook receivers (main.ts builds them). */
    egress: { oauth: Egress; webhooks: Egress };
    rewrapBatchSize?: number | undefined;
    /** How long a re-wrap runner's lease lasts unless renewed (30 s by default). */
    rewrapLeaseMs?: number | undefined;
    /** False in an `api` replica: re-wrap jobs wait for a worker's sweep. */
    runsJobs?: boolean | undefined;
    limits: RateLimits;
    /** Group commit of usage events: at most this many per statement (default 256). */
    usageBatch?: number | undefined;
    metrics: Pick<Metrics, "resolutions" | "resolvedValues">;
  },
) {
  const rewrapRunner = createRewrapRunner({
    ...deps,
    transit: options.transit,
    logger: options.logger,
    batchSize: options.rewrapBatchSize,
    leaseMs: options.rewrapLeaseMs,
  });
  const transitKeys = transitKeyService({
    ...deps,
    transit: options.transit,
    logger: options.logger,
    runner: rewrapRunner,
    runsJobs: options.runsJobs ?? true,
  });
  const oauth = oauthService({
    ...deps,
    transit: options.transit,
    publicUrl: options.publicUrl,
    egress: options.egress.oauth,
  });
  const apiTokens = apiTokenService(deps);
  const mfa = mfaService({ ...deps, transit: options.transit });
  const usage = createUsageLog(
    { ...deps, onTokenRefused: apiTokens.forgetCached },
    { maxBatch: options.usageBatch },
  );
  return {
    usage,
    transitKeys,
    rewrapRunner,
    webhooks: webhookService({
      ...deps,
      transit: options.transit,
      egress: options.egress.webhooks,
    }),
    oauth,
    resolution: limitedResolution(
      resolutionService({
        ...deps,
        transit: options.transit,
        logger: options.logger,
        dynamic: options.dynamic ?? noDynamicCredentials,
        oauth,
        usage,
      }),
      options.limits,
      options.metrics,
    ),
    secrets: secretService({
      ...deps,
      transit: options.transit,
      ...(options.keepVersions ? { keepVersions: options.keepVersions } : {}),
    }),
    organizations: organizationService({
      ...deps,
      transit: options.transit,
      destroyKey: transitKeys.destroyKey,
    }),
    workspaces: workspaceService(deps),
    sso: ssoService({
      ...deps,
      transit: options.transit,
      // An identity provider is a tenant-chosen address, guarded like an OAuth provider's.
      egress: options.egress.oauth,
      publicUrl: options.publicUrl,
      sessionTtlMs: options.sessionTtlMs,
    }),
    invitations: invitationService({
      ...deps,
      publicUrl: options.publicUrl,
      ttlMs: options.invitationTtlMs,
      sessionTtlMs: options.sessionTtlMs,
    }),
    apiTokens,
    mfa,
    sessions: limitedSignIn(
      sessionService(deps, { ttlMs: options.sessionTtlMs, mfa, limitMfa: options.limits.mfa }),
      options.limits,
    ),
  };
}

/** Resolutions are rate-limited per token (or user) and counted by outcome. */
function limitedResolution(
  service: ResolutionService,
  limits: RateLimits,
  metrics: Pick<Metrics, "resolutions" | "resolvedValues">,
): ResolutionService {
  return {
    ...service,
    async resolve(caller, input) {
      try {
        // Counted beside the access check and the lookup (one round trip less), and settled
        // before anything costly: see resolutionService's `admitted`.
        const admitted = limits.resolve(
          caller.actor.kind === "token"
            ? `token:${caller.actor.tokenId}`
            : `user:${caller.actor.userId}`,
        );
        admitted.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
        const result = await service.resolve(caller, input, admitted).catch(async (error) => {
          await admitted; // a spent limit is the answer, whatever else went wrong
          throw error;
        });
        metrics.resolutions.inc({ outcome: "ok" });
        metrics.resolvedValues.inc(result.values.length);
        return result;
      } catch (error) {
        metrics.resolutions.inc({ outcome: (error as { code?: string }).code ?? "internal" });
        throw error;
      }
    },
  };
}

/** Sign-in attempts are rate-limited per email and address, before any password check. */
function limitedSignIn(
  service: ReturnType<typeof sessionService>,
  limits: RateLimits,
): ReturnType<typeof sessionService> {
  return {
    ...service,
    async signIn(email, password, metadata, mfaCode) {
      await limits.signIn(email, metadata.ip);
      return service.signIn(email, password, metadata, mfaCode);
    },
  };
}
