import type { z } from "zod";
import { ValidationError } from "../errors/ValidationError.ts";

/** zod → our typed ValidationError, every issue at once, with its input path. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw ValidationError.fromIssues(
    result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  );
}
