import { AppError } from "../errors/AppError.ts";

/**
 * Typed failures of the transit engine. Messages name the key and the operation, never
 * a plaintext or a ciphertext.
 */
export class TransitError extends AppError {
  override name = "TransitError";
  readonly code: string = "TRANSIT_ERROR";
}

/** Vault sealed, unreachable, timing out or answering 5xx: try again later. */
export class TransitUnavailableError extends TransitError {
  override name = "TransitUnavailableError";
  override readonly code: string = "TRANSIT_UNAVAILABLE";
}

/** Vault answered 403: Coffer's token or policy does not allow the operation. */
export class TransitPermissionError extends TransitError {
  override name = "TransitPermissionError";
  override readonly code: string = "TRANSIT_PERMISSION_DENIED";
}

/** The named key does not exist (never created, or deleted: crypto-shredded). */
export class TransitKeyNotFoundError extends TransitError {
  override name = "TransitKeyNotFoundError";
  override readonly code: string = "TRANSIT_KEY_NOT_FOUND";
}

/** Some items of a batch failed (malformed, tampered, or below min_decryption_version). */
export class TransitBatchError extends TransitError {
  override name = "TransitBatchError";
  override readonly code: string = "TRANSIT_BATCH_FAILED";
  constructor(
    message: string,
    readonly failedIndexes: number[],
  ) {
    super(message);
  }
}

/**
 * The request itself is wrong whatever the engine's state: an invalid key name, a minimum
 * decryption version outside 1..latest, or a Vault 400 that names no item and no key.
 */
export class TransitInvalidRequestError extends TransitError {
  override name = "TransitInvalidRequestError";
  override readonly code: string = "TRANSIT_INVALID_REQUEST";
}
