import { GraphQLError, Kind } from "graphql";
import { builder } from "./builder.ts";

builder.scalarType("DateTime", {
  description: "An ISO-8601 timestamp in UTC",
  serialize: (value) => (value as Date).toISOString(),
  parseValue: (value) => {
    const date = typeof value === "string" ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime()))
      throw new GraphQLError("DateTime must be an ISO-8601 string");
    return date;
  },
  parseLiteral: (ast) => {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : undefined;
    if (!date || Number.isNaN(date.getTime()))
      throw new GraphQLError("DateTime must be an ISO-8601 string");
    return date;
  },
});

builder.scalarType("JSON", {
  description: "Arbitrary JSON (event data and metadata; never a secret value)",
  serialize: (value) => value,
  parseValue: (value) => value,
});
