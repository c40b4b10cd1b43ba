import SchemaBuilder from "@pothos/core";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { GraphQLError, type GraphQLInterfaceType, type GraphQLSchema } from "graphql";
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
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // `node` and `nodes` answer null for an id that is not one (not base64, no such type,
    // a type that is not a Node), exactly as for an id that does not exist.
    decodeGlobalID: (globalID) => {
      try {
        return decodeGlobalID(globalID);
      } catch {
        return { typename: "", id: "" };
      }
    },
    nodeQueryOptions: {
      resolve: (_root, args, _ctx, info, resolveNode) =>
        isNodeType(info.schema, args.id.typename) ? resolveNode(args.id) : null,
    },
    nodesQueryOptions: {
      resolve: (_root, args, _ctx, info, resolveNodes) => {
        // resolveNodes reads args.ids, and answers null where an entry is null.
        (args as { ids: ({ typename: string } | null)[] }).ids = args.ids.map((id) =>
          isNodeType(info.schema, id.typename) ? id : null,
        );
        return resolveNodes(args.ids);
      },
    },
  },
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

/**
 * An object type of the schema that implements Node: what a global id may name. By name,
 * not `instanceof`: graphql-jit runs resolvers with graphql's CommonJS build.
 */
function isNodeType(schema: GraphQLSchema, typename: string): boolean {
  const node = schema.getType("Node");
  if (!node || !typename) return false;
  return schema
    .getImplementations(node as GraphQLInterfaceType)
    .objects.some((type) => type.name === typename);
}

builder.queryType({});
builder.mutationType({});
