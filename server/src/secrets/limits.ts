/** Naming rules and size limits for secrets (DESIGN.md §2). Errors name keys, never values. */
export const SECRET_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/;
export const SECRET_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MAX_KEYS = 64;
export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_TOTAL_BYTES = 256 * 1024;
export const MAX_DESCRIPTION = 500;
/** Versions whose ciphertext is kept (the current one always is); older ones are pruned. */
export const DEFAULT_KEEP_VERSIONS = 20;
