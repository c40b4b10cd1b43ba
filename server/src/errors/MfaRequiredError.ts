import { AppError } from "./AppError.ts";

/** The password was right and the account has two-factor sign-in: send the code too. */
export class MfaRequiredError extends AppError {
  override name = "MfaRequiredError";
  readonly code = "MFA_REQUIRED";
  constructor(
    message = "Enter the 6-digit code from your authenticator app, or one of your recovery codes",
  ) {
    super(message);
  }
}
