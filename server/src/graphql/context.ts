import type { Actor } from "../authz/Actor.ts";
import type { Caller } from "../CoreDeps.ts";
import type { Services } from "../app/createServices.ts";
import type { Db } from "../db/database.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import type { EventMetadata } from "../eventstore/types.ts";

export type SessionCookie = { set(token: string, expiresAt: Date): void; clear(): void };
/** The cookie that binds a single sign-on in progress to its browser. */
export type SsoBrowserCookie = {
  read(): string | undefined;
  set(value: string, maxAgeSeconds: number): void;
  clear(): void;
};

export type Context = {
  actor: Actor | null;
  requestId: string;
  request: { ip?: string; userAgent?: string };
  db: Db;
  services: Services;
  sessionCookie: SessionCookie;
  ssoBrowser: SsoBrowserCookie;
};

export function requestMetadata(ctx: Context): Omit<EventMetadata, "actor"> {
  return {
    requestId: ctx.requestId,
    ...(ctx.request.ip ? { ip: ctx.request.ip } : {}),
    ...(ctx.request.userAgent ? { userAgent: ctx.request.userAgent.slice(0, 256) } : {}),
  };
}

/** The authenticated caller, or a typed error: the tenant always comes from here. */
export function callerOf(ctx: Context): Caller {
  const actor = ctx.actor;
  if (!actor) throw new UnauthenticatedError();
  const metadata: EventMetadata = {
    ...requestMetadata(ctx),
    actor:
      actor.kind === "user"
        ? { kind: "user", id: actor.userId }
        : { kind: "token", id: actor.tokenId },
    ...(actor.kind === "token" ? { tokenId: actor.tokenId } : {}),
  };
  return { actor, metadata };
}
