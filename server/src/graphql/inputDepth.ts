import { Kind, type ASTVisitor, type GraphQLError, type ValidationContext } from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";

/**
 * A limit on how deeply input values nest, in variables and in literals. The `JSON` scalar
 * takes any JSON (an action's arguments), and what reads it afterwards (expression parsing,
 * substitution, graphql-js's literal coercion) recurses: thousands of nested `[` would end
 * in a stack overflow, an unexpected error instead of a clear refusal.
 */
export function useInputDepthLimit(options: { maxDepth: number }): Plugin {
  const { maxDepth } = options;
  return {
    onParams({ params, setResult }) {
      // The variables object itself is one level: count from the values inside it.
      if (depthOf(params.variables) - 1 > maxDepth) setResult({ errors: [tooDeep(maxDepth)] });
    },
    onValidate({ addValidationRule }) {
      addValidationRule((context: ValidationContext): ASTVisitor => {
        let depth = 0;
        let reported = false;
        const enter = () => {
          depth++;
          if (depth > maxDepth && !reported) {
            reported = true;
            context.reportError(tooDeep(maxDepth));
          }
        };
        const leave = () => void depth--;
        return {
          [Kind.LIST]: { enter, leave },
          [Kind.OBJECT]: { enter, leave },
        };
      });
    },
  };
}

function tooDeep(maxDepth: number): GraphQLError {
  return createGraphQLError(`Input values may nest at most ${maxDepth} levels deep`, {
    extensions: { code: "BAD_USER_INPUT", http: { status: 400 } },
  });
}

/** Nesting depth of arrays and objects, without recursion (the input is hostile). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}
