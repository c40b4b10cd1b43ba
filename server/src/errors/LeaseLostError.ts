/**
 * A background job's lease was taken over (it lapsed while this runner was paused, or
 * another replica claimed it): this runner must stop and write nothing more. Internal —
 * never shown to an API caller; the job goes on in the replica that holds it now.
 */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(what: string) {
    super(`the lease on ${what} was lost; another runner holds it`);
  }
}
