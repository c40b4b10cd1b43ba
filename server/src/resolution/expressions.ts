import { ValidationError, type FieldIssue } from "../errors/ValidationError.ts";

/**
 * `${{ SECRETS.<name>.<KEY> }}` expressions in an action's arguments (any JSON).
 * Whitespace inside the braces is tolerated, names may contain hyphens (seed 004's
 * `github-pat`). Other `${{ … }}` expressions (TRIGGER, ACTIONS, …) belong to the platform
 * and are left untouched; a `${{ SECRETS…` that is not exactly `SECRETS.name.KEY` is an
 * error naming the argument path.
 */
export type SecretRef = { name: string; key: string };
export const refId = (ref: SecretRef) => `${ref.name}.${ref.key}`;

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const SECRET_EXPRESSION =
  /^\s*SECRETS\.([a-z0-9][a-z0-9_-]{0,127})\.([A-Za-z_][A-Za-z0-9_]{0,127})\s*$/;
const LOOKS_LIKE_SECRET = /^\s*SECRETS\b/i;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every secret reference in the tree, each once, in order of first appearance. */
export function findSecretRefs(args: unknown, root = "arguments"): SecretRef[] {
  const found = new Map<string, SecretRef>();
  const issues: FieldIssue[] = [];
  walk(args as Json, root, (text, path) => {
    for (const ref of refsInString(text, path, issues)) found.set(refId(ref), ref);
  });
  if (issues.length) throw ValidationError.fromIssues(issues);
  return [...found.values()];
}

function refsInString(text: string, path: string, issues: FieldIssue[]): SecretRef[] {
  const refs: SecretRef[] = [];
  for (const match of text.matchAll(EXPRESSION)) {
    const inner = match[1]!;
    if (!LOOKS_LIKE_SECRET.test(inner)) continue;
    const parsed = SECRET_EXPRESSION.exec(inner);
    if (parsed) refs.push({ name: parsed[1]!, key: parsed[2]! });
    else
      issues.push({
        path,
        message: `malformed secret expression "${truncate(match[0])}": use \${{ SECRETS.<name>.<KEY> }}`,
      });
  }
  const unclosed = text.replace(EXPRESSION, "").match(/\$\{\{\s*SECRETS\b[^}]*/i);
  if (unclosed)
    issues.push({
      path,
      message: `unclosed secret expression "${truncate(unclosed[0])}": it needs a closing }}`,
    });
  return refs;
}

/**
 * The arguments with every secret expression replaced: a string that is exactly one
 * expression becomes the value itself; expressions inside longer strings are interpolated.
 */
export function substitute(args: unknown, valueOf: (ref: SecretRef) => string): unknown {
  return map(args as Json, (text) => {
    const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(text);
    const single = whole ? SECRET_EXPRESSION.exec(whole[1]!) : null;
    if (single) return valueOf({ name: single[1]!, key: single[2]! });
    return text.replace(EXPRESSION, (expression, inner: string) => {
      const parsed = SECRET_EXPRESSION.exec(inner);
      return parsed ? valueOf({ name: parsed[1]!, key: parsed[2]! }) : expression;
    });
  });
}

function walk(value: Json, path: string, visit: (text: string, path: string) => void): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${i}]`, visit));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, visit);
}

function map(value: Json, replace: (text: string) => string): Json {
  if (typeof value === "string") return replace(value);
  if (Array.isArray(value)) return value.map((item) => map(item, replace));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, map(v, replace)]));
  return value;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
