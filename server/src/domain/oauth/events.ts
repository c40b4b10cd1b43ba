/** OAuth provider and connection events, on one stream per workspace. No token, no secret. */
export type OAuthEvent =
  | {
      type: "OAuthProviderCreated";
      data: {
        providerId: string;
        name: string;
        builtin: boolean;
        authorizationEndpoint: string | null;
        tokenEndpoint: string;
        defaultScopes: string[];
        grantTypes: string[];
        clientId: string;
      };
    }
  | { type: "OAuthProviderUpdated"; data: { providerId: string; changed: string[] } }
  | { type: "OAuthProviderDeleted"; data: { providerId: string } }
  | {
      type: "OAuthConnected";
      data: {
        connectionId: string;
        providerId: string;
        environment: string;
        kind: "USER" | "SERVICE";
        scopes: string[];
        expiresAt: string | null;
      };
    }
  | {
      type: "OAuthTokenRefreshed";
      data: { connectionId: string; providerId: string; expiresAt: string | null };
    }
  | {
      type: "OAuthRefreshFailed";
      data: { connectionId: string; providerId: string; error: string; needsReconnection: boolean };
    }
  | {
      type: "OAuthDisconnected";
      data: {
        connectionId: string;
        providerId: string;
        environment: string;
        kind: "USER" | "SERVICE";
      };
    };

export const oauthStream = (workspaceId: string) => `oauth-${workspaceId}`;
