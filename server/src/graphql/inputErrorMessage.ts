/**
 * graphql-js quotes the offending input in coercion errors ("String cannot represent a
 * non string value: 918273…", "Variable "$i" got invalid value {…}"). The input may be a
 * secret value, so the quoted part is cut; what remains still says what was wrong and,
 * where graphql-js gives it, at which path.
 */
const PATTERNS: [RegExp, string][] = [
  [/got invalid value [\s\S]*?(?=; | at "|$)/, "got an invalid value"],
  [/cannot represent (?:a )?(non[- ]?[\w ]+ value|value)\s*:[\s\S]*$/, "cannot represent this $1"],
  [/Expected value of type ("[^"]+"), found [\s\S]*?(?=;|$)/, "Expected value of type $1"],
  [/Enum "(\w+)" cannot represent [\s\S]*$/, 'Enum "$1" cannot represent this value'],
  // graphql 16: `Value "HUNTER2" does not exist in "SecretType" enum.` (the value may hold quotes)
  [/Value [\s\S]*? does not exist in ("\w+") enum\.?/, "This value does not exist in the $1 enum."],
];

export function withoutInputValues(message: string): string {
  let out = message;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
