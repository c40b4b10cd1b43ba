import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "../errors/AppError.ts";

export class RateLimitedError extends AppError {
  override name = "RateLimitedError";
  readonly code = "RATE_LIMITED";
  constructor(
    what: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`Too many ${what}; try again in ${retryAfterSeconds} s`);
  }
}

/**
 * Per-process limits (rate-limiter-flexible, in memory): sign-in attempts per email and
 * address, resolutions per API token or user. Behind a load balancer each instance
 * counts its own requests; a shared store is the next step when Coffer runs replicated.
 */
export function createRateLimits(
  options: { signInsPerMinute: number; resolutionsPerMinute: number },
  onLimited?: (limit: string) => void,
) {
  const signIn = new RateLimiterMemory({ points: options.signInsPerMinute, duration: 60 });
  const resolve = new RateLimiterMemory({ points: options.resolutionsPerMinute, duration: 60 });
  const consume = async (limiter: RateLimiterMemory, key: string, limit: string, what: string) => {
    try {
      await limiter.consume(key);
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result;
      onLimited?.(limit);
      throw new RateLimitedError(what, Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
    }
  };
  return {
    signIn: (email: string, ip: string | undefined) =>
      consume(signIn, `${email.trim().toLowerCase()}|${ip ?? "?"}`, "sign_in", "sign-in attempts"),
    resolve: (callerKey: string) => consume(resolve, callerKey, "resolve", "resolutions"),
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
