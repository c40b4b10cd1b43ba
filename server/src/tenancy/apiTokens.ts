import { z } from "zod";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import type { Actor } from "../authz/Actor.ts";
import {
  loadOrgAccess,
  loadWorkspaceAccess,
  requireOrgAccess,
  requirePermission,
  requireWorkspaceAccess,
  type OrgAccess,
} from "../authz/access.ts";
import { API_TOKEN_PREFIX, newOpaqueToken, sha256Hex } from "../auth/secretTokens.ts";
import { apiTokenDecider, type ApiTokenCommand } from "../domain/apiToken/decide.ts";
import { apiTokenStream } from "../domain/apiToken/events.ts";
import { PERMISSIONS, type Permission } from "../domain/roles.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { executeCommand, inTransaction } from "../eventstore/executeCommand.ts";
import { preparedRows, type Db, type Tx } from "../db/database.ts";
import { createApiTokenCache, type AuthenticatedToken } from "./apiTokenCache.ts";
import { parseInput } from "./parseInput.ts";
import { projectApiToken } from "./projections.ts";
import { isUuid } from "../domain/uuid.ts";

const issueInput = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100, "at most 100 characters"),
  permissions: z.array(z.enum(PERMISSIONS)).min(1, "name at least one permission"),
});

/** Refresh `last_used_at` at most once a minute per token: no write on every request. */
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * API tokens for platforms. The plaintext token is returned once by `issue`; the
 * database keeps its SHA-256. The hash stays out of the event log (which is exported to
 * SIEMs), so a replay of events cannot recreate it: that column is credential state,
 * not a projection.
 */
export function apiTokenService(deps: CoreDeps) {
  const cache = createApiTokenCache();
  const run = (
    tx: Tx,
    caller: Caller,
    organizationId: string,
    tokenId: string,
    command: ApiTokenCommand,
    issued?: { tokenHash: string; createdBy: string },
  ) =>
    executeCommand(tx, {
      streamId: apiTokenStream(tokenId),
      organizationId,
      decider: apiTokenDecider,
      command,
      metadata: caller.metadata,
      now: deps.clock(),
      project: projectApiToken(tokenId, issued),
    });

  return {
    async issue(
      caller: Caller,
      scope: { organizationId: string } | { workspaceId: string },
      raw: { name: string; permissions: Permission[]; expiresAt?: Date | null | undefined },
    ) {
      if (caller.actor.kind !== "user")
        throw new ForbiddenError("API tokens cannot issue API tokens; sign in as a user");
      const input = parseInput(issueInput, { name: raw.name, permissions: raw.permissions });
      const token = newOpaqueToken(API_TOKEN_PREFIX);
      const tokenId = deps.newId();
      const userId = caller.actor.userId;
      await inTransaction(deps.db, async (tx) => {
        const access: OrgAccess & { workspaceId?: string } =
          "workspaceId" in scope
            ? await requireWorkspaceAccess(tx, caller.actor, scope.workspaceId)
            : await requireOrgAccess(tx, caller.actor, scope.organizationId);
        requirePermission(access, "admin", "Issuing API tokens");
        await run(
          tx,
          caller,
          access.organizationId,
          tokenId,
          {
            type: "IssueApiToken",
            tokenId,
            organizationId: access.organizationId,
            workspaceId: "workspaceId" in scope ? scope.workspaceId : null,
            name: input.name,
            permissions: input.permissions,
            prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
            expiresAt: raw.expiresAt ?? null,
            now: deps.clock(),
          },
          { tokenHash: sha256Hex(token), createdBy: userId },
        );
      });
      return { tokenId, token };
    },

    async revoke(caller: Caller, tokenId: string) {
      await inTransaction(deps.db, async (tx) => {
        const row = await findVisibleToken(tx, caller.actor, tokenId);
        if (!row) throw new NotFoundError("API token");
        await run(tx, caller, row.organizationId, tokenId, { type: "RevokeApiToken", tokenId });
      });
    },

    /**
     * Resolves a bearer token to its actor, or null when unknown, revoked or expired. With
     * `cached`, a token authenticated before may come from the cache (apiTokenCache.ts):
     * only for requests whose every use of the token is re-checked where it counts (a
     * resolution: its usage statement refuses a dead token).
     */
    async authenticate(token: string, options: { cached?: boolean } = {}): Promise<Actor | null> {
      if (!token.startsWith(API_TOKEN_PREFIX)) return null;
      const now = deps.clock();
      const hash = sha256Hex(token);
      let row = options.cached ? cache.get(hash, now) : undefined;
      if (!row) {
        const generation = cache.generation();
        // Every other API request starts here: one indexed, raw lookup of only what is needed.
        [row] = await preparedRows<AuthenticatedToken>(
          deps.db,
          "coffer_authenticate_token",
          `SELECT id::text, organization_id::text AS "organizationId", workspace_id::text AS "workspaceId", permissions,
                  expires_at AS "expiresAt", last_used_at AS "lastUsedAt"
           FROM api_tokens
           WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2::timestamptz)`,
          [hash, now],
        );
        if (!row) return null;
        cache.set(hash, row, generation, now);
      }
      if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
        row.lastUsedAt = now;
        await deps.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
      }
      return {
        kind: "token",
        tokenId: row.id,
        organizationId: row.organizationId,
        workspaceId: row.workspaceId,
        permissions: row.permissions as Permission[],
      };
    },

    /** Serves `authenticate(…, { cached: true })` from memory while subscribed (see apiTokenCache). */
    listen: (connectionString: string, onLost?: (error: unknown) => void) =>
      cache.listen(connectionString, onLost),

    /** A usage statement refused a token: drop what is cached (its announcement is on its way). */
    forgetCached: () => cache.forget(),
  };
}

/**
 * A token is visible to admins of its scope: organization admins for organization
 * tokens, workspace admins for workspace tokens. Anything else looks missing.
 */
export async function findVisibleToken(db: Db | Tx, actor: Actor, tokenId: string) {
  if (!isUuid(tokenId)) return null;
  const row = await db.apiToken.findUnique({ where: { id: tokenId } });
  if (!row) return null;
  const access = row.workspaceId
    ? await loadWorkspaceAccess(db, actor, row.workspaceId)
    : await loadOrgAccess(db, actor, row.organizationId);
  return access?.permissions.has("admin") && access.organizationId === row.organizationId
    ? row
    : null;
}
