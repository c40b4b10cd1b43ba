import { AppError } from "./AppError.ts";

export type FieldIssue = { path: string; message: string };

export class ValidationError extends AppError {
  override name = "ValidationError";
  readonly code = "VALIDATION_FAILED";
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }

  static fromIssues(issues: FieldIssue[]): ValidationError {
    return new ValidationError(
      issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; "),
      issues,
    );
  }
}
