import { AppError } from "./AppError.ts";

export class ConflictError extends AppError {
  override name = "ConflictError";
  readonly code = "CONFLICT";
}
