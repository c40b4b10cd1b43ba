import { AppError } from "../errors/AppError.ts";

/**
 * Typed failures of the transit engine. Messages name the key and the operation, never
 * a plaintext or a ciphertext.
 */
export abstract class TransitError extends AppError {}

/** Vault sealed, unreachable, timing out or answering 5xx: try again later. */
export class TransitUnavailableError extends TransitError {
  override name = "TransitUnavailableError";
  readonly code = "TRANSIT_UNAVAILABLE";
}

/** Vault answered 403: Coffer's token or policy does not allow the operation. */
export class TransitPermissionError extends TransitError {
  override name = "TransitPermissionError";
  readonly code = "TRANSIT_PERMISSION_DENIED";
}

/** The named key does not exist (never created, or deleted: crypto-shredded). */
export class TransitKeyNotFoundError extends TransitError {
  override name = "TransitKeyNotFoundError";
  readonly code = "TRANSIT_KEY_NOT_FOUND";
}

/** Some items of a batch failed (malformed, tampered, or below min_decryption_version). */
export class TransitBatchError extends TransitError {
  override name = "TransitBatchError";
  readonly code = "TRANSIT_BATCH_FAILED";
  constructor(
    message: string,
    readonly failedIndexes: number[],
  ) {
    super(message);
  }
}
