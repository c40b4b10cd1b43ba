import { AppError } from "../errors/AppError.ts";

/** The usage event could not be made durable, so no value was returned (fail-closed). */
export class AuditUnavailableError extends AppError {
  override name = "AuditUnavailableError";
  readonly code = "AUDIT_UNAVAILABLE";
  constructor() {
    super(
      "The use of these credentials could not be recorded in the audit log, so no values were returned; try again",
    );
  }
}
