import { AppError } from "../errors/AppError.ts";

/** The provider refused the refresh token (invalid_grant): someone must connect again. */
export class OAuthReconnectionRequiredError extends AppError {
  override name = "OAuthReconnectionRequiredError";
  readonly code = "OAUTH_RECONNECTION_REQUIRED";
  constructor(
    readonly providerId: string,
    readonly environment: string,
  ) {
    super(
      `The ${providerId} connection in "${environment}" needs to be reconnected: the provider no longer accepts its refresh token`,
    );
  }
}

/**
 * The provider answered with an OAuth error; its error code is kept, its description is not.
 * `egress_refused`: Coffer did not (or stopped to) talk to the provider, and `detail` (from
 * the egress guard: hosts and addresses only) says why.
 */
export class OAuthProviderError extends AppError {
  override name = "OAuthProviderError";
  readonly code = "OAUTH_PROVIDER_ERROR";
  constructor(
    readonly providerId: string,
    readonly oauthError: string,
    detail?: string,
  ) {
    super(
      detail === undefined
        ? `${providerId} refused the request: ${oauthError}`
        : `Coffer refused to call ${providerId}: ${detail}`,
    );
  }
}
