// The schema entry: each module registers its types and fields with the builder as a
// side effect of being imported.
import { builder } from "./builder.ts";
import "./scalars.ts";
import "./errors.ts";
import "./types/User.ts";
import "./types/Organization.ts";
import "./types/Workspace.ts";
import "./types/Environment.ts";
import "./types/ApiToken.ts";
import "./types/AuditEvent.ts";
import "./types/Viewer.ts";
import "./types/Secret.ts";
import "./types/TransitKey.ts";
import "./types/Resolution.ts";
import "./types/OAuth.ts";
import "./types/Webhook.ts";
import "./queries.ts";
import "./mutations/auth.ts";
import "./mutations/mfa.ts";
import "./mutations/invitations.ts";
import "./mutations/sso.ts";
import "./mutations/organizations.ts";
import "./mutations/workspaces.ts";
import "./mutations/apiTokens.ts";
import "./mutations/secrets.ts";
import "./mutations/transitKeys.ts";
import "./mutations/resolution.ts";
import "./mutations/oauth.ts";

export const schema = builder.toSchema({ sortSchema: true });
