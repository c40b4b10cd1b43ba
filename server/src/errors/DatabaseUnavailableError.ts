import { AppError } from "./AppError.ts";

/**
 * The database went away under a request: unreachable, restarted, or the connection was
 * cut mid-transaction. Transient, and not the caller's fault: a client may try again. A
 * transaction cut before its COMMIT wrote nothing; one cut during COMMIT may have, which is
 * why the message asks to check before repeating.
 */
export class DatabaseUnavailableError extends AppError {
  override name = "DatabaseUnavailableError";
  readonly code = "DATABASE_UNAVAILABLE";

  constructor() {
    super(
      "The database connection was lost while handling the request; check whether the change was made, then try again",
    );
  }
}

// SQLSTATE class 08 (connection exception), 57P01–57P03 (admin shutdown, crash shutdown,
// cannot connect now), and what pg and Prisma's driver adapter say when a socket dies.
const SQLSTATES = /^(08[0-9A-Z]{3}|57P0[1-3])$/;
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017"]);
const NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);
const MESSAGES =
  /Connection terminated|not queryable|terminating connection due to|server closed the connection|Can't reach database server|Server has closed the connection|Code: `(08[0-9A-Z]{3}|57P0[1-3])`/;

/** Whether `error` says the database connection failed (rather than the query being wrong). */
export function isConnectionLost(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const fields = e as {
      code?: unknown;
      message?: unknown;
      meta?: { code?: unknown };
      cause?: { kind?: unknown; originalCode?: unknown } & Record<string, unknown>;
    };
    const codes = [fields.code, fields.meta?.code, fields.cause?.originalCode];
    if (
      codes.some(
        (c) =>
          typeof c === "string" && (SQLSTATES.test(c) || PRISMA_CODES.has(c) || NODE_CODES.has(c)),
      )
    )
      return true;
    if (fields.cause?.kind === "ConnectionClosed" || fields.cause?.kind === "DatabaseNotReachable")
      return true;
    if (typeof fields.message === "string" && MESSAGES.test(fields.message)) return true;
    e = fields.cause;
  }
  return false;
}

/**
 * Runs `work` (typically a `$transaction`) and turns a lost database connection into a
 * DatabaseUnavailableError, the way conflictOnUnique turns a unique violation into a
 * conflict: the caller gets a typed, retryable failure instead of a masked internal error.
 */
export async function unavailableOnConnectionLoss<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isConnectionLost(error)) throw new DatabaseUnavailableError();
    throw error;
  }
}
