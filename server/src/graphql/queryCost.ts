import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";

/**
 * The query cost limit, computed when the variables are known.
 *
 * graphql-armor's cost limit runs at validation, which sees the document only: a
 * connection's `first: $n` counts as a page of one, so `first: 100` moved into a variable
 * walked past the limit. This plugin scores the operation about to execute with armor's
 * formula and weights (a scalar costs 1; an object 2 plus 1.5 × its children; a connection's
 * subtree times its page size; a fragment spread 1 plus 1.5 × the fragment), but reads
 * `first`/`last` from the variables. A variable that is null or absent counts as the largest
 * default page, which is what such a connection returns. It replaces armor's cost limit, so
 * literal and variable page sizes are scored by one rule.
 *
 * It needs no schema, only the AST, on purpose: graphql-js may be loaded twice (ESM and
 * CommonJS), and a schema from one copy cannot be validated by the other.
 */
/**
 * The largest legitimate request scores about 26,000: a full audit page (500 events with
 * every field); a page of 100 secrets with their versions scores about 11,000. Nesting one
 * page inside another (workspaces × members) goes far beyond.
 */
export const MAX_QUERY_COST = 30_000;

export function useQueryCost(options: { maxCost: number; defaultPageSize: number }): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const cost = operationCost(
        args.document as DocumentNode,
        args.operationName ?? undefined,
        variables,
        options.defaultPageSize,
      );
      if (cost > options.maxCost) {
        setResultAndStopExecution({
          errors: [
            createGraphQLError(
              `Query cost limit of ${options.maxCost} exceeded, found ${Math.ceil(cost)}.`,
              {
                extensions: {
                  code: "GRAPHQL_VALIDATION_FAILED",
                  // Like the other limits (validation errors): 400 for graphql-response+json.
                  http: { status: 400, spec: true },
                },
              },
            ),
          ],
        });
      }
    },
  };
}

const SCALAR_COST = 1;
const OBJECT_COST = 2;
const DEPTH_FACTOR = 1.5;

/** The cost of the operation that would execute (0 when there is none to pick). */
export function operationCost(
  document: DocumentNode,
  operationName: string | undefined,
  variables: Readonly<Record<string, unknown>>,
  defaultPageSize: number,
): number {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation) return 0;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  const defaults = new Map(
    (operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, v.defaultValue]),
  );
  // Each fragment is scored once: spreading it many times must not cost exponential time.
  const fragmentCosts = new Map<string, number>();

  function pageSize(value: ValueNode): number {
    if (value.kind === Kind.INT) return Number.parseInt(value.value, 10);
    if (value.kind !== Kind.VARIABLE) return 1;
    const name = value.name.value;
    const given = Object.hasOwn(variables, name) ? variables[name] : undefined;
    if (typeof given === "number" && Number.isInteger(given)) return given;
    const fallback = given === undefined ? defaults.get(name) : undefined;
    if (fallback?.kind === Kind.INT) return Number.parseInt(fallback.value, 10);
    // null, absent, or not an integer (which fails coercion right after this).
    return defaultPageSize;
  }

  function selectionCost(selection: SelectionNode): number {
    switch (selection.kind) {
      case Kind.FIELD: {
        if (selection.name.value === "__schema") return 0;
        if (!selection.selectionSet) return SCALAR_COST;
        const page = selection.arguments?.find(
          (a) => a.name.value === "first" || a.name.value === "last",
        );
        const multiplier = page ? Math.max(pageSize(page.value), 1) : 1;
        return multiplier * setCost(selection.selectionSet);
      }
      case Kind.INLINE_FRAGMENT:
        return setCost(selection.selectionSet);
      case Kind.FRAGMENT_SPREAD:
        return SCALAR_COST + DEPTH_FACTOR * fragmentCost(selection.name.value);
    }
  }

  function setCost(set: SelectionSetNode): number {
    return set.selections.reduce(
      (cost, child) => cost + DEPTH_FACTOR * selectionCost(child),
      OBJECT_COST,
    );
  }

  function fragmentCost(name: string): number {
    const known = fragmentCosts.get(name);
    if (known !== undefined) return known;
    // Validation refuses fragment cycles before execution; score one as free, not forever.
    fragmentCosts.set(name, 0);
    const fragment = fragments.get(name);
    const cost = fragment ? setCost(fragment.selectionSet) : 0;
    fragmentCosts.set(name, cost);
    return cost;
  }

  return operation.selectionSet.selections.reduce((cost, s) => cost + selectionCost(s), 0);
}
