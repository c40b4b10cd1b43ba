/**
 * Expected failures a caller can act on. Messages name objects (an environment, a
 * member) but never carry a secret value, and never reveal another tenant's objects.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
}
