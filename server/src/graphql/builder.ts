import SchemaBuilder from "@pothos/core";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import type { Context } from "./context.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { authenticated: boolean; user: boolean };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  // Relay first so scope checks see parsed ids; scope-auth before the wrappers it guards.
  plugins: [RelayPlugin, ScopeAuthPlugin, ErrorsPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  relay: { clientMutationId: "omit", cursorType: "String" },
  scopeAuth: {
    authScopes: (ctx) => ({ authenticated: ctx.actor !== null, user: ctx.actor?.kind === "user" }),
    unauthorizedError: (_parent, ctx) =>
      ctx.actor
        ? new GraphQLError("This field needs a signed-in user", {
            extensions: { code: "FORBIDDEN" },
          })
        : new GraphQLError("Sign in or send a valid API token", {
            extensions: { code: "UNAUTHENTICATED" },
          }),
  },
  // No default error types: only our AppError subclasses become typed results; anything
  // else is unexpected and masked by Yoga.
  errors: { defaultTypes: [] },
});

builder.queryType({});
builder.mutationType({});
