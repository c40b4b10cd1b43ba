import { builder } from "../builder.ts";
import { callerOf, requestMetadata } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { UnauthenticatedError } from "../../errors/UnauthenticatedError.ts";
import { OrganizationRef, OrgRoleEnum } from "../types/Organization.ts";

const ConfigureSingleSignOnInput = builder.inputType("ConfigureSingleSignOnInput", {
  fields: (t) => ({
    organizationId: t.id(),
    issuer: t.string({ description: "The identity provider's issuer URL (OpenID discovery)" }),
    clientId: t.string(),
    clientSecret: t.string({
      required: false,
      description: "Required the first time; kept when omitted later. Never returned.",
    }),
    emailDomains: t.stringList({ description: "Domains whose verified addresses may sign in" }),
    defaultRole: t.field({
      type: OrgRoleEnum,
      description: "ADMIN or MEMBER: the role of someone new (a pending invitation's role wins)",
    }),
    required: t.boolean({
      description:
        "Members act in the organization only from single sign-on sessions (OWNERs excepted)",
    }),
  }),
});

builder.mutationField("configureSingleSignOn", (t) =>
  t.field({
    type: OrganizationRef,
    description:
      "Sets the organization's OpenID Connect identity provider for console sign-in. ADMIN or OWNER, signed in; the issuer's discovery document must be readable.",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: ConfigureSingleSignOnInput }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = localId(input.organizationId, "Organization");
      await ctx.services.sso.configure(callerOf(ctx), organizationId, input);
      return ctx.db.organization.findUniqueOrThrow({ where: { id: organizationId } });
    },
  }),
);

builder.mutationField("removeSingleSignOn", (t) =>
  t.field({
    type: OrganizationRef,
    description: "Removes the identity provider; members sign in with passwords again",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { organizationId: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const organizationId = localId(args.organizationId, "Organization");
      await ctx.services.sso.remove(callerOf(ctx), organizationId);
      return ctx.db.organization.findUniqueOrThrow({ where: { id: organizationId } });
    },
  }),
);

const StartSingleSignOnPayload = builder
  .objectRef<{ authorizationUrl: string }>("StartSingleSignOnPayload")
  .implement({
    fields: (t) => ({
      authorizationUrl: t.exposeString("authorizationUrl", {
        description: "Send the browser here; it comes back to /auth/sso/callback",
      }),
    }),
  });

builder.mutationField("startSingleSignOn", (t) =>
  t.field({
    type: StartSingleSignOnPayload,
    description:
      "Starts a console sign-in through an organization's identity provider (no session needed). Sets a cookie binding the sign-in to this browser.",
    errors: { types: COMMAND_ERRORS },
    args: { organizationSlug: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const started = await ctx.services.sso.start(args.organizationSlug);
      ctx.ssoBrowser.set(started.browser, started.maxAgeSeconds);
      return { authorizationUrl: started.authorizationUrl };
    },
  }),
);

builder.mutationField("completeSingleSignOn", (t) =>
  t.field({
    type: OrganizationRef,
    description:
      "Completes a sign-in with the identity provider's redirect (its query string), from the browser that started it; sets the session cookie. The session acts in this organization only.",
    errors: { types: [...COMMAND_ERRORS, UnauthenticatedError] },
    args: { callbackQuery: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const browser = ctx.ssoBrowser.read();
      ctx.ssoBrowser.clear();
      const session = await ctx.services.sso.complete(
        new URLSearchParams(args.callbackQuery),
        browser,
        requestMetadata(ctx),
      );
      ctx.sessionCookie.set(session.token, session.expiresAt);
      return ctx.db.organization.findUniqueOrThrow({ where: { id: session.organizationId } });
    },
  }),
);
