import { AppError } from "./AppError.ts";

export class UnauthenticatedError extends AppError {
  override name = "UnauthenticatedError";
  readonly code = "UNAUTHENTICATED";
  constructor(message = "Sign in or send a valid API token") {
    super(message);
  }
}
