import { createHash } from "node:crypto";
import type pg from "pg";
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import { AppError } from "../errors/AppError.ts";
import { DatabaseUnavailableError } from "../errors/DatabaseUnavailableError.ts";

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

/** The table the migration `rate_limits` creates (rate-limiter-flexible's own layout). */
export const RATE_LIMIT_TABLE = "rate_limits";

export type RateLimitOptions = {
  signInsPerMinute: number;
  resolutionsPerMinute: number;
  /**
   * Counters in PostgreSQL, shared by every replica on the same database. Without it they
   * live in this process's memory (tests, and one-process setups that do not care).
   */
  store?: pg.Pool;
};

/**
 * Sign-in attempts per email and address, resolutions per API token or user
 * (rate-limiter-flexible). With a store, one token's budget is the same on every replica.
 *
 * Two choices, different on purpose:
 * - Sign-in fails closed: when the counter cannot be read, the attempt is refused with
 *   DatabaseUnavailableError. A per-process fallback would hand an attacker who can make
 *   the limiter's queries fail (load, lock waits) N replicas × the budget of password
 *   guesses; and sign-in needs PostgreSQL for the password check anyway, so refusing
 *   costs no availability that was not already lost.
 * - Resolution falls back to a per-process counter (`insuranceLimiter`): that limit
 *   protects capacity, not a credential, and a resolution still fails closed on its own
 *   audit event if PostgreSQL is really gone.
 * Both keep an in-memory block once a key is spent (`inMemoryBlockOnConsumed`), so a
 * key hammered past its limit costs this process no further round trips until it resets.
 * Keys are hashed: the table holds no email addresses or client addresses, and stays
 * within its key column whatever the email's length.
 */
export function createRateLimits(options: RateLimitOptions, onLimited?: (limit: string) => void) {
  const limiter = (keyPrefix: string, points: number, insured: boolean): RateLimiterAbstract => {
    if (!options.store) return new RateLimiterMemory({ keyPrefix, points, duration: 60 });
    return new RateLimiterPostgres({
      storeClient: options.store,
      storeType: "pool",
      tableName: RATE_LIMIT_TABLE,
      // Created by a migration: the app's login (coffer_app) has no CREATE right.
      tableCreated: true,
      keyPrefix,
      points,
      duration: 60,
      inMemoryBlockOnConsumed: points,
      // Its sweep (rows expired an hour ago, every 5 minutes) is an idempotent DELETE:
      // safe to run on every replica, so it stays on instead of moving to the worker.
      clearExpiredByTimeout: true,
      ...(insured
        ? { insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: 60 }) }
        : {}),
    });
  };
  const signIn = limiter("sign_in", options.signInsPerMinute, false);
  const resolve = limiter("resolve", options.resolutionsPerMinute, true);
  // Second-factor attempts per user, wherever they come from (the sign-in limit is per
  // email and address): as many a minute as sign-ins.
  const mfa = limiter("mfa", options.signInsPerMinute, false);
  const consume = async (
    limiter: RateLimiterAbstract,
    key: string,
    limit: string,
    what: string,
  ) => {
    try {
      await limiter.consume(key);
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw new DatabaseUnavailableError();
      onLimited?.(limit);
      throw new RateLimitedError(what, Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
    }
  };
  const hashed = (key: string) => createHash("sha256").update(key).digest("base64url");
  return {
    signIn: (email: string, ip: string | undefined) =>
      consume(
        signIn,
        hashed(`${email.trim().toLowerCase()}|${ip ?? "?"}`),
        "sign_in",
        "sign-in attempts",
      ),
    resolve: (callerKey: string) => consume(resolve, callerKey, "resolve", "resolutions"),
    mfa: (userId: string) => consume(mfa, hashed(userId), "mfa", "two-factor attempts"),
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
