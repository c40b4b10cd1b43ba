import { OAuthProviderError, OAuthReconnectionRequiredError } from "../../oauth/oauthErrors.ts";
import { TransitError } from "../../transit/TransitError.ts";
import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";
import { localId } from "../globalId.ts";
import { OAuthConnectionRef, OAuthProviderRef, toProviderView } from "../types/OAuth.ts";

const ERRORS = [
  ...COMMAND_ERRORS,
  OAuthProviderError,
  OAuthReconnectionRequiredError,
  TransitError,
];

const CreateCustomOAuthProviderInput = builder.inputType("CreateCustomOAuthProviderInput", {
  fields: (t) => ({
    workspaceId: t.id(),
    name: t.string({
      description:
        "The provider id is `custom_` + its slug, e.g. My Custom App → custom_my_custom_app",
    }),
    authorizationEndpoint: t.string({
      required: false,
      description: "HTTPS on a public address; required for the authorization code grant",
    }),
    tokenEndpoint: t.string({
      description:
        "HTTPS on a public address (or a range the operator allows with EGRESS_ALLOW_CIDRS); Coffer calls it through its egress guard",
    }),
    defaultScopes: t.stringList({ required: false }),
    grantTypes: t.stringList({ description: "authorization_code and/or client_credentials" }),
    clientId: t.string(),
    clientSecret: t.string({ description: "Write-only" }),
  }),
});

builder.mutationField("createCustomOAuthProvider", (t) =>
  t.field({
    type: OAuthProviderRef,
    description:
      "Defines a custom provider. Needs workspace `admin` (not only `oauth:manage`): its endpoints decide where Coffer's servers send requests",
    authScopes: { authenticated: true },
    errors: { types: ERRORS },
    args: { input: t.arg({ type: CreateCustomOAuthProviderInput }) },
    resolve: async (_root, { input }, ctx) => {
      const { workspaceId, ...rest } = input;
      const row = await ctx.services.oauth.createCustomProvider(
        callerOf(ctx),
        localId(workspaceId, "Workspace"),
        {
          ...rest,
          defaultScopes: rest.defaultScopes ?? [],
          grantTypes: rest.grantTypes as ("authorization_code" | "client_credentials")[],
        },
      );
      return toProviderView(row);
    },
  }),
);

const UpdateCustomOAuthProviderInput = builder.inputType("UpdateCustomOAuthProviderInput", {
  fields: (t) => ({
    workspaceId: t.id(),
    providerId: t.string(),
    name: t.string({ required: false }),
    defaultScopes: t.stringList({ required: false }),
    clientId: t.string({ required: false }),
    clientSecret: t.string({ required: false, description: "Write-only" }),
  }),
});

builder.mutationField("updateCustomOAuthProvider", (t) =>
  t.field({
    type: OAuthProviderRef,
    authScopes: { authenticated: true },
    errors: { types: ERRORS },
    args: { input: t.arg({ type: UpdateCustomOAuthProviderInput }) },
    resolve: async (_root, { input }, ctx) =>
      toProviderView(
        await ctx.services.oauth.updateCustomProvider(
          callerOf(ctx),
          localId(input.workspaceId, "Workspace"),
          input.providerId,
          {
            name: input.name ?? null,
            defaultScopes: input.defaultScopes ?? null,
            clientId: input.clientId ?? null,
            clientSecret: input.clientSecret ?? null,
          },
        ),
      ),
  }),
);

const ConfigureOAuthProviderInput = builder.inputType("ConfigureOAuthProviderInput", {
  fields: (t) => ({
    workspaceId: t.id(),
    providerId: t.string({
      description: "A built-in provider: github, google, microsoft, microsoft_teams, slack",
    }),
    clientId: t.string(),
    clientSecret: t.string({ description: "Write-only" }),
    defaultScopes: t.stringList({ required: false }),
  }),
});

builder.mutationField("configureOAuthProvider", (t) =>
  t.field({
    type: OAuthProviderRef,
    description: "Sets this workspace's OAuth client for a built-in provider",
    authScopes: { authenticated: true },
    errors: { types: ERRORS },
    args: { input: t.arg({ type: ConfigureOAuthProviderInput }) },
    resolve: async (_root, { input }, ctx) =>
      toProviderView(
        await ctx.services.oauth.configureBuiltinProvider(
          callerOf(ctx),
          localId(input.workspaceId, "Workspace"),
          input,
        ),
      ),
  }),
);

builder.mutationField("deleteOAuthProvider", (t) =>
  t.boolean({
    description: "Removes a provider's configuration and disconnects its connections",
    authScopes: { authenticated: true },
    errors: { types: ERRORS },
    args: { workspaceId: t.arg.id(), providerId: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      await ctx.services.oauth.deleteProvider(
        callerOf(ctx),
        localId(args.workspaceId, "Workspace"),
        args.providerId,
      );
      return true;
    },
  }),
);

const ConnectInput = builder.inputType("OAuthConnectInput", {
  fields: (t) => ({
    workspaceId: t.id(),
    providerId: t.string(),
    environment: t.string({ required: false }),
    scopes: t.stringList({ required: false }),
  }),
});

const AuthorizationStart = builder
  .objectRef<{ authorizationUrl: string }>("OAuthAuthorizationStart")
  .implement({
    fields: (t) => ({
      authorizationUrl: t.exposeString("authorizationUrl", {
        description: "Send the browser here; it comes back to /oauth/callback",
      }),
    }),
  });

builder.mutationField("startOAuthAuthorization", (t) =>
  t.field({
    type: AuthorizationStart,
    description: "Starts the authorization code flow (PKCE S256) for the signed-in user",
    authScopes: { user: true },
    errors: { types: ERRORS },
    args: { input: t.arg({ type: ConnectInput }) },
    resolve: async (_root, { input }, ctx) => ({
      authorizationUrl: await ctx.services.oauth.startAuthorization(
        callerOf(ctx),
        localId(input.workspaceId, "Workspace"),
        input,
      ),
    }),
  }),
);

builder.mutationField("completeOAuthAuthorization", (t) =>
  t.field({
    type: OAuthConnectionRef,
    description:
      "Called by the /oauth/callback page, from the session that started the flow, with the query string it received",
    authScopes: { user: true },
    errors: { types: ERRORS },
    args: { callbackQuery: t.arg.string() },
    resolve: (_root, args, ctx) =>
      ctx.services.oauth.completeAuthorization(
        callerOf(ctx),
        new URLSearchParams(args.callbackQuery.replace(/^\?/, "")),
      ),
  }),
);

builder.mutationField("connectOAuthClientCredentials", (t) =>
  t.field({
    type: OAuthConnectionRef,
    description: "Obtains a SERVICE token with the client credentials grant",
    authScopes: { authenticated: true },
    errors: { types: ERRORS },
    args: { input: t.arg({ type: ConnectInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.oauth.connectClientCredentials(
        callerOf(ctx),
        localId(input.workspaceId, "Workspace"),
        input,
      ),
  }),
);

builder.mutationField("disconnectOAuth", (t) =>
  t.boolean({
    authScopes: { authenticated: true },
    errors: { types: ERRORS },
    args: { workspaceId: t.arg.id(), connectionId: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      await ctx.services.oauth.disconnect(
        callerOf(ctx),
        localId(args.workspaceId, "Workspace"),
        String(args.connectionId),
      );
      return true;
    },
  }),
);
