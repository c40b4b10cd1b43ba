import { createHash, randomBytes } from "node:crypto";

/** Opaque bearer credentials (API tokens, session ids): only their SHA-256 is stored. */
export function newOpaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

export const API_TOKEN_PREFIX = "coffer_pat_";
export const SESSION_PREFIX = "coffer_s_";
