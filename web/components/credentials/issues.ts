import type { ApiError } from "../../lib/document.ts";

/**
 * Splits a ValidationError's issues into per-field messages and the rest. Issue paths are
 * `values.KEY` or `KEY` for a value, `environment`, `name`, …; `values` means the whole set.
 */
export function splitIssues(error: ApiError | undefined): {
  fields: Record<string, string>;
  general: string[];
} {
  const fields: Record<string, string> = {};
  const general: string[] = [];
  if (!error) return { fields, general };
  if (!error.issues?.length) return { fields, general: [error.message] };
  for (const issue of error.issues) {
    const path = issue.path.replace(/^(values|set|remove)\./, "");
    if (!path || path === "values" || path === "template" || path === "templateId")
      general.push(issue.message);
    else fields[path] = fields[path] ? `${fields[path]}; ${issue.message}` : issue.message;
  }
  return { fields, general };
}

export function sentence(message: string): string {
  const trimmed = message.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}
