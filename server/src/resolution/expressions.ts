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

/**
 * Every `${{ … }}` in the text, left to right, each ending at the first `}}` after its
 * start: what the lazy pattern /\$\{\{([\s\S]*?)\}\}/g finds, in linear time (that pattern
 * rescans to the end from every unclosed `${{`, so 40,000 of them took over a second).
 */
function* expressions(text: string): Generator<{ start: number; end: number; inner: string }> {
  for (let from = 0; ;) {
    const start = text.indexOf("${{", from);
    if (start < 0) return;
    const close = text.indexOf("}}", start + 3);
    if (close < 0) return; // nothing after this start closes, so no later start can either
    yield { start, end: close + 2, inner: text.slice(start + 3, close) };
    from = close + 2;
  }
}

function replaceExpressions(text: string, replace: (expression: string, inner: string) => string) {
  let out = "";
  let last = 0;
  for (const { start, end, inner } of expressions(text)) {
    out += text.slice(last, start) + replace(text.slice(start, end), inner);
    last = end;
  }
  return out + text.slice(last);
}

function refsInString(text: string, path: string, issues: FieldIssue[]): SecretRef[] {
  const refs: SecretRef[] = [];
  for (const { start, end, inner } of expressions(text)) {
    if (!LOOKS_LIKE_SECRET.test(inner)) continue;
    const parsed = SECRET_EXPRESSION.exec(inner);
    if (parsed) refs.push({ name: parsed[1]!, key: parsed[2]! });
    else
      issues.push({
        path,
        message: `malformed secret expression "${truncate(text.slice(start, end))}": use \${{ SECRETS.<name>.<KEY> }}`,
      });
  }
  // Quoted only up to the first space or brace: what follows may be other argument text.
  const unclosed = replaceExpressions(text, () => "").match(/\$\{\{\s*SECRETS\b[^}\s]*/i);
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
    const [only, ...more] = expressions(text);
    const whole =
      only &&
      more.length === 0 &&
      text.slice(0, only.start).trim() === "" &&
      text.slice(only.end).trim() === "";
    const single = whole ? SECRET_EXPRESSION.exec(only.inner) : null;
    if (single) return valueOf({ name: single[1]!, key: single[2]! });
    return replaceExpressions(text, (expression, inner) => {
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
