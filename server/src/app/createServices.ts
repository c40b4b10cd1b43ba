import type { CoreDeps } from "../CoreDeps.ts";
import { sessionService } from "../auth/sessions.ts";
import { secretService } from "../secrets/secretService.ts";
import type { Transit } from "../transit/Transit.ts";
import { apiTokenService } from "../tenancy/apiTokens.ts";
import { organizationService } from "../tenancy/organizations.ts";
import { workspaceService } from "../tenancy/workspaces.ts";

export type Services = ReturnType<typeof createServices>;

export function createServices(
  deps: CoreDeps,
  options: { sessionTtlMs: number; transit: Transit; keepVersions?: number },
) {
  return {
    secrets: secretService({
      ...deps,
      transit: options.transit,
      ...(options.keepVersions ? { keepVersions: options.keepVersions } : {}),
    }),
    organizations: organizationService({ ...deps, transit: options.transit }),
    workspaces: workspaceService(deps),
    apiTokens: apiTokenService(deps),
    sessions: sessionService(deps, { ttlMs: options.sessionTtlMs }),
  };
}
