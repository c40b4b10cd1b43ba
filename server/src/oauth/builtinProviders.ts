/**
 * Built-in OAuth providers (seed 001: `github`, `microsoft_teams`, …). A workspace uses
 * one after an admin configures its OAuth client (configureOAuthProvider).
 */
export type GrantKind = "authorization_code" | "client_credentials";

export type ProviderDefinition = {
  providerId: string;
  name: string;
  authorizationEndpoint: string | null;
  tokenEndpoint: string;
  defaultScopes: string[];
  grantTypes: GrantKind[];
  /** Extra authorization parameters some providers need to issue refresh tokens. */
  authorizationParams?: Record<string, string>;
};

export const BUILTIN_PROVIDERS: readonly ProviderDefinition[] = [
  {
    providerId: "github",
    name: "GitHub",
    authorizationEndpoint: "https://github.com/login/oauth/authorize",
    tokenEndpoint: "https://github.com/login/oauth/access_token",
    defaultScopes: ["repo", "read:org"],
    grantTypes: ["authorization_code"],
  },
  {
    providerId: "google",
    name: "Google",
    authorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
    tokenEndpoint: "https://oauth2.googleapis.com/token",
    defaultScopes: ["openid", "email"],
    grantTypes: ["authorization_code"],
    authorizationParams: { access_type: "offline", prompt: "consent" },
  },
  {
    providerId: "microsoft",
    name: "Microsoft",
    authorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    tokenEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    defaultScopes: ["offline_access", "https://graph.microsoft.com/.default"],
    grantTypes: ["authorization_code", "client_credentials"],
  },
  {
    providerId: "microsoft_teams",
    name: "Microsoft Teams",
    authorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    tokenEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    defaultScopes: [
      "offline_access",
      "https://graph.microsoft.com/ChannelMessage.Send",
      "https://graph.microsoft.com/Team.ReadBasic.All",
    ],
    grantTypes: ["authorization_code", "client_credentials"],
  },
  {
    providerId: "slack",
    name: "Slack",
    authorizationEndpoint: "https://slack.com/oauth/v2/authorize",
    tokenEndpoint: "https://slack.com/api/oauth.v2.access",
    defaultScopes: ["chat:write", "channels:read"],
    grantTypes: ["authorization_code"],
  },
];

export const findBuiltinProvider = (providerId: string) =>
  BUILTIN_PROVIDERS.find((p) => p.providerId === providerId);
