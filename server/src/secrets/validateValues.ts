import type { SecretType } from "../domain/secret/events.ts";
import { ValidationError, type FieldIssue } from "../errors/ValidationError.ts";
import { MAX_KEYS, MAX_TOTAL_BYTES, MAX_VALUE_BYTES, SECRET_KEY } from "./limits.ts";
import { validateTypedValues } from "./secretTypes.ts";
import { findTemplate, validateAgainstTemplate } from "./templates.ts";

export type SecretValueInput = { key: string; value: string };

/** Key names and sizes of a list of `{key, value}` inputs; duplicates are refused. */
export function collectValues(
  inputs: readonly SecretValueInput[],
  path = "values",
): Record<string, string> {
  const issues: FieldIssue[] = [];
  const values: Record<string, string> = {};
  for (const { key, value } of inputs) {
    if (!SECRET_KEY.test(key))
      issues.push({
        path: `${path}.${key || "(empty)"}`.slice(0, 160),
        message:
          "key must start with a letter or '_' and contain only letters, digits and '_' (at most 128)",
      });
    else if (key in values) issues.push({ path: `${path}.${key}`, message: "is given twice" });
    else if (value.length === 0)
      issues.push({ path: `${path}.${key}`, message: "must not be empty" });
    else if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES)
      issues.push({
        path: `${path}.${key}`,
        message: `is larger than ${MAX_VALUE_BYTES / 1024} KiB`,
      });
    else values[key] = value;
  }
  if (issues.length) throw ValidationError.fromIssues(issues);
  return values;
}

/**
 * The complete value set a version will hold, checked against the type (PEM parsing,
 * fixed keys) or template (required / optional / at-least-one keys), and the limits.
 * Returns the normalised values and any deprecation warnings.
 */
export function validateSecretValues(
  type: SecretType,
  templateId: string | null,
  values: Readonly<Record<string, string>>,
): { values: Record<string, string>; warnings: string[] } {
  const keys = Object.keys(values);
  const issues: FieldIssue[] = [];
  if (keys.length === 0 && !templateId)
    issues.push({ path: "values", message: "a secret needs at least one key" });
  if (keys.length > MAX_KEYS)
    issues.push({ path: "values", message: `a secret holds at most ${MAX_KEYS} keys` });
  const total = Object.values(values).reduce((sum, v) => sum + Buffer.byteLength(v, "utf8"), 0);
  if (total > MAX_TOTAL_BYTES)
    issues.push({
      path: "values",
      message: `a secret holds at most ${MAX_TOTAL_BYTES / 1024} KiB in all`,
    });
  const typed = validateTypedValues(type, values);
  issues.push(...typed.issues);
  let warnings: string[] = [];
  if (templateId) {
    const template = findTemplate(templateId);
    if (!template) issues.push({ path: "template", message: `unknown template "${templateId}"` });
    else {
      const result = validateAgainstTemplate(template, typed.values);
      issues.push(...result.issues);
      warnings = result.warnings;
    }
  }
  if (issues.length) throw ValidationError.fromIssues(issues);
  return { values: typed.values, warnings };
}
