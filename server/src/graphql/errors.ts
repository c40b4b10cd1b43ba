import type { AppError } from "../errors/AppError.ts";
import { ConflictError } from "../errors/ConflictError.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { MfaRequiredError } from "../errors/MfaRequiredError.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { SecretIntegrityError } from "../secrets/secretPayload.ts";
import { TransitError } from "../transit/TransitError.ts";
import { RateLimitedError } from "../ops/rateLimits.ts";
import { builder } from "./builder.ts";

export const ErrorInterface = builder.interfaceRef<AppError>("Error").implement({
  description: "An expected failure. `message` is safe to show a person.",
  fields: (t) => ({
    message: t.exposeString("message"),
    code: t.exposeString("code"),
  }),
});

const FieldIssue = builder.objectRef<{ path: string; message: string }>("FieldIssue").implement({
  fields: (t) => ({ path: t.exposeString("path"), message: t.exposeString("message") }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ issues: t.field({ type: [FieldIssue], resolve: (e) => e.issues }) }),
});
builder.objectType(NotFoundError, { name: "NotFoundError", interfaces: [ErrorInterface] });
builder.objectType(ConflictError, { name: "ConflictError", interfaces: [ErrorInterface] });
builder.objectType(ForbiddenError, { name: "ForbiddenError", interfaces: [ErrorInterface] });
builder.objectType(UnauthenticatedError, {
  name: "UnauthenticatedError",
  interfaces: [ErrorInterface],
});

builder.objectType(MfaRequiredError, {
  name: "MfaRequiredError",
  description: "The password was right; sign in again with `mfaCode` (TOTP or a recovery code)",
  interfaces: [ErrorInterface],
});

builder.objectType(TransitError, {
  name: "TransitError",
  description: "The transit engine (Vault) refused or could not be reached; nothing was changed",
  interfaces: [ErrorInterface],
});
builder.objectType(SecretIntegrityError, {
  name: "SecretIntegrityError",
  interfaces: [ErrorInterface],
});
builder.objectType(RateLimitedError, {
  name: "RateLimitedError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt("retryAfterSeconds") }),
});

/** The expected failures of a command; anything else is masked as an unexpected error. */
export const COMMAND_ERRORS = [ValidationError, NotFoundError, ConflictError, ForbiddenError];
