import { RateLimitedError } from "../../ops/rateLimits.ts";
import { builder } from "../builder.ts";
import { callerOf, requestMetadata } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { UserRef } from "../types/User.ts";
import { localId } from "../globalId.ts";
import { MfaRequiredError } from "../../errors/MfaRequiredError.ts";
import { UnauthenticatedError } from "../../errors/UnauthenticatedError.ts";
import { MIN_PASSWORD_LENGTH } from "../../auth/passwords.ts";

const SignInInput = builder.inputType("SignInInput", {
  fields: (t) => ({
    email: t.string(),
    password: t.string(),
    mfaCode: t.string({
      required: false,
      description:
        "With two-factor sign-in on: the authenticator app's code or a recovery code (MfaRequiredError without it)",
    }),
  }),
});

builder.mutationField("signIn", (t) =>
  t.field({
    type: UserRef,
    description: "Starts a console session: sets an httpOnly, SameSite=Strict session cookie",
    errors: { types: [UnauthenticatedError, MfaRequiredError, RateLimitedError] },
    args: { input: t.arg({ type: SignInInput }) },
    resolve: async (_root, { input }, ctx) => {
      const session = await ctx.services.sessions.signIn(
        input.email,
        input.password,
        requestMetadata(ctx),
        input.mfaCode ?? null,
      );
      ctx.sessionCookie.set(session.token, session.expiresAt);
      return ctx.db.user.findUniqueOrThrow({
        where: { id: session.userId },
        select: { id: true, email: true, name: true },
      });
    },
  }),
);

builder.mutationField("signOut", (t) =>
  t.boolean({
    description: "Ends the current console session; the cookie stops working at once",
    authScopes: { user: true },
    resolve: async (_root, _args, ctx) => {
      const caller = callerOf(ctx);
      ctx.sessionCookie.clear();
      return ctx.services.sessions.signOut(caller.actor, caller.metadata);
    },
  }),
);

const ChangePasswordInput = builder.inputType("ChangePasswordInput", {
  fields: (t) => ({
    currentPassword: t.string(),
    newPassword: t.string({ description: `At least ${MIN_PASSWORD_LENGTH} characters` }),
  }),
});

builder.mutationField("changePassword", (t) =>
  t.boolean({
    description: "Changes the signed-in user's password and ends their other sessions",
    authScopes: { user: true },
    errors: { types: [...COMMAND_ERRORS, UnauthenticatedError] },
    args: { input: t.arg({ type: ChangePasswordInput }) },
    resolve: async (_root, { input }, ctx) => {
      await ctx.services.sessions.changePassword(
        callerOf(ctx),
        input.currentPassword,
        input.newPassword,
      );
      return true;
    },
  }),
);

const RevokedSession = builder
  .objectRef<{ id: string; current: boolean }>("RevokedSession")
  .implement({
    fields: (t) => ({
      id: t.exposeID("id"),
      current: t.exposeBoolean("current", {
        description: "It was this request's session: its cookie was cleared too",
      }),
    }),
  });

builder.mutationField("revokeSession", (t) =>
  t.field({
    type: RevokedSession,
    description:
      "Ends one of the signed-in user's console sessions (see Viewer.sessions); another user's is NotFound",
    authScopes: { user: true },
    errors: { types: COMMAND_ERRORS },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const { current } = await ctx.services.sessions.revoke(
        callerOf(ctx),
        localId(args.id, "Session"),
      );
      if (current) ctx.sessionCookie.clear();
      return { id: String(args.id), current };
    },
  }),
);
