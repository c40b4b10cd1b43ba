import { AppError } from "./AppError.ts";

/** The object is visible to the caller, but the action needs a right they lack. */
export class ForbiddenError extends AppError {
  override name = "ForbiddenError";
  readonly code = "FORBIDDEN";
}
