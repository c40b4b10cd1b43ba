import { AppError } from "./AppError.ts";

/** Also what another tenant's object looks like: the message never says which. */
export class NotFoundError extends AppError {
  override name = "NotFoundError";
  readonly code = "NOT_FOUND";
  constructor(readonly kind: string) {
    super(`${kind} not found`);
  }
}
