import type { CoreDeps } from "../CoreDeps.ts";
import { sessionService } from "../auth/sessions.ts";
import { apiTokenService } from "../tenancy/apiTokens.ts";
import { organizationService } from "../tenancy/organizations.ts";
import { workspaceService } from "../tenancy/workspaces.ts";

export type Services = ReturnType<typeof createServices>;

export function createServices(deps: CoreDeps, options: { sessionTtlMs: number }) {
  return {
    organizations: organizationService(deps),
    workspaces: workspaceService(deps),
    apiTokens: apiTokenService(deps),
    sessions: sessionService(deps, { ttlMs: options.sessionTtlMs }),
  };
}
