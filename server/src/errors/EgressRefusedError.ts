import { AppError } from "./AppError.ts";

/**
 * Why the egress guard stopped a request to a tenant-chosen destination:
 * - `address`: the destination is (or resolves to) an address Coffer does not call;
 * - `redirect`: the server answered with a redirect, which is never followed;
 * - `timeout`: no complete answer within the time cap;
 * - `too_large`: the answer was larger than the size cap.
 */
export type EgressRefusal = "address" | "redirect" | "timeout" | "too_large";

/**
 * A request to an address a tenant chose (OAuth endpoint, webhook receiver) that the egress
 * guard refused or cut off. `detail` says why, for a person ("hooks.example.com resolves to
 * 10.0.0.5, a private address (RFC 1918)"); it names hosts and addresses, never a URL's path
 * or query (a webhook URL may carry a token), and never a request or response body.
 */
export class EgressRefusedError extends AppError {
  override name = "EgressRefusedError";
  readonly code = "EGRESS_REFUSED";
  constructor(
    readonly reason: EgressRefusal,
    readonly detail: string,
  ) {
    super(`Coffer refused the request: ${detail}`);
  }
}
