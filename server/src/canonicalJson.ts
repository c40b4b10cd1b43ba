import canonicalizeModule from "canonicalize";

// A CommonJS module whose typings declare an ES default export: unwrap whichever we get.
const canonicalize = ((canonicalizeModule as unknown as { default?: typeof canonicalizeModule })
  .default ?? canonicalizeModule) as unknown as (input: unknown) => string | undefined;

/** RFC 8785 canonical JSON: the same value always gives the same bytes (for hashing). */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("value cannot be canonicalized");
  return text;
}
