import { encodeGlobalID } from "@pothos/plugin-relay";
import { builder } from "../builder.ts";

type SessionRow = { id: string; createdAt: Date; expiresAt: Date; lastSeenAt: Date | null };

/** One console session of the signed-in user (never its token: only a hash is stored). */
export const SessionRef = builder.objectRef<SessionRow>("Session").implement({
  description: "A console session of the signed-in user; revokeSession ends it",
  fields: (t) => ({
    id: t.id({ resolve: (s) => encodeGlobalID("Session", s.id) }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it signed in" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime", nullable: true }),
    current: t.boolean({
      description: "The session this request came with",
      resolve: (s, _args, ctx) => ctx.actor?.kind === "user" && ctx.actor.sessionId === s.id,
    }),
  }),
});
