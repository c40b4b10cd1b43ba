import { listen } from "../db/listen.ts";

/** What authenticating a token found: enough to act for it, and when it stops being valid. */
export type AuthenticatedToken = {
  id: string;
  organizationId: string;
  workspaceId: string | null;
  permissions: string[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
};

const MAX_ENTRIES = 10_000;
/** A bound on how long an entry is trusted even with no change announced. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * Authenticated API tokens by hash, for resolutions only (graphql/yoga.ts decides when a
 * request may use it). Trusted only while subscribed to coffer_api_tokens: a trigger
 * announces every revocation or other change of a token when it commits, from any process
 * (prisma/migrations/…_api_token_guard), and every announcement drops every entry. What
 * makes a revocation exact is not this cache but the usage statement, which refuses a dead
 * token in the same statement that would make its event durable (usageLog.ts): the cache
 * only decides how fast a revoked token is turned away, never whether values leave.
 */
export function createApiTokenCache(options: { maxEntries?: number; maxAgeMs?: number } = {}) {
  const maxEntries = options.maxEntries ?? MAX_ENTRIES;
  const maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS;
  const entries = new Map<string, { token: AuthenticatedToken; cachedAt: number }>();
  let listening = false;
  /** Counts announced changes, so that a lookup racing one does not cache what it read. */
  let generation = 0;
  const forget = () => {
    generation++;
    entries.clear();
  };

  return {
    /** The cached token for this hash, if it may be trusted at `now`. */
    get(hash: string, now: Date): AuthenticatedToken | undefined {
      if (!listening) return undefined;
      const entry = entries.get(hash);
      if (!entry) return undefined;
      if (
        now.getTime() - entry.cachedAt > maxAgeMs ||
        (entry.token.expiresAt && entry.token.expiresAt.getTime() <= now.getTime())
      ) {
        entries.delete(hash);
        return undefined;
      }
      return entry.token;
    },
    /** The generation to pass to `set` for what is read from now on. */
    generation: () => generation,
    /** Caches what a lookup started at `since` (a generation) found, unless a change came meanwhile. */
    set(hash: string, token: AuthenticatedToken, since: number, now: Date): void {
      if (!listening || since !== generation) return;
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(hash, { token, cachedAt: now.getTime() });
    },
    /** Drops every entry (a token the usage statement refused: the announcement is on its way). */
    forget,
    /**
     * Subscribes to coffer_api_tokens; until then, and whenever the subscription is lost,
     * nothing is served from the cache. Returns the function that stops it.
     */
    async listen(
      connectionString: string,
      onLost?: (error: unknown) => void,
    ): Promise<() => Promise<void>> {
      const stop = await listen(connectionString, "coffer_api_tokens", {
        onNotification: forget,
        onSubscribed: () => {
          forget();
          listening = true;
        },
        onLost: (error) => {
          listening = false;
          forget();
          onLost?.(error);
        },
      });
      return async () => {
        await stop();
        listening = false;
        forget();
      };
    },
  };
}

export type ApiTokenCache = ReturnType<typeof createApiTokenCache>;
