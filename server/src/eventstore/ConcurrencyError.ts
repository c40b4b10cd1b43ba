/** The stream moved on since the caller read it; nothing was written. */
export class ConcurrencyError extends Error {
  override name = "ConcurrencyError";
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: number,
  ) {
    super(`Stream ${streamId} is at version ${actual}, expected ${expected}`);
  }
}
