import { AppError } from "../errors/AppError.ts";

/**
 * Seed 004's `credential_not_found`: every missing `name.KEY` at once, the environment
 * that was searched, and where else each missing name exists (seed 000's FAQ: `slack`
 * in `default` but the action runs in `customer_acme`).
 */
export class CredentialNotFoundError extends AppError {
  override name = "CredentialNotFoundError";
  readonly code = "credential_not_found";
  constructor(
    readonly environment: string,
    readonly missing: string[],
    readonly hints: { name: string; environments: string[] }[],
    readonly environmentDeclared: boolean,
  ) {
    const where = hints
      .map((h) => `"${h.name}" exists in ${h.environments.map((e) => `"${e}"`).join(", ")}`)
      .join("; ");
    super(
      `credential_not_found: ${missing.join(", ")} not found in environment "${environment}"` +
        (environmentDeclared ? "" : ` (an environment not declared in this workspace)`) +
        (where ? `; ${where}` : ""),
    );
  }
}
