import type { CoreDeps } from "../CoreDeps.ts";
import { sessionService } from "../auth/sessions.ts";
import { secretService } from "../secrets/secretService.ts";
import type { Transit } from "../transit/Transit.ts";
import type { Logger } from "../logger.ts";
import { transitKeyService } from "../secrets/transitKeyService.ts";
import { noDynamicCredentials, type DynamicCredentials } from "../resolution/dynamicCredentials.ts";
import { resolutionService } from "../resolution/resolutionService.ts";
import { oauthService } from "../oauth/oauthService.ts";
import { apiTokenService } from "../tenancy/apiTokens.ts";
import { organizationService } from "../tenancy/organizations.ts";
import { workspaceService } from "../tenancy/workspaces.ts";

export type Services = ReturnType<typeof createServices>;

export function createServices(
  deps: CoreDeps,
  options: {
    sessionTtlMs: number;
    transit: Transit;
    logger: Logger;
    keepVersions?: number | undefined;
    dynamic?: DynamicCredentials | undefined;
    publicUrl: () => string;
    oauthAllowLoopbackHttp?: boolean | undefined;
    rewrapBatchSize?: number | undefined;
  },
) {
  const transitKeys = transitKeyService({
    ...deps,
    transit: options.transit,
    logger: options.logger,
    ...(options.rewrapBatchSize ? { rewrapBatchSize: options.rewrapBatchSize } : {}),
  });
  const oauth = oauthService({
    ...deps,
    transit: options.transit,
    publicUrl: options.publicUrl,
    allowLoopbackHttp: options.oauthAllowLoopbackHttp ?? false,
  });
  return {
    transitKeys,
    oauth,
    resolution: resolutionService({
      ...deps,
      transit: options.transit,
      logger: options.logger,
      dynamic: options.dynamic ?? noDynamicCredentials,
      oauth,
    }),
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
    apiTokens: apiTokenService(deps),
    sessions: sessionService(deps, { ttlMs: options.sessionTtlMs }),
  };
}
