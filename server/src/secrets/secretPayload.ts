import { canonicalJson } from "../canonicalJson.ts";
import { AppError } from "../errors/AppError.ts";

/**
 * What a secret version's ciphertext decrypts to: one canonical JSON document that also
 * names the secret, version and organization it belongs to. Decrypting checks that
 * identity, so a ciphertext copied onto another row (or another version) is refused
 * instead of silently resolving as that row.
 */
export type SecretIdentity = { organizationId: string; secretId: string; version: number };

export class SecretIntegrityError extends AppError {
  override name = "SecretIntegrityError";
  readonly code = "SECRET_INTEGRITY";
}

export function encodeSecretPayload(
  identity: SecretIdentity,
  values: Readonly<Record<string, string>>,
): Buffer {
  return Buffer.from(canonicalJson({ v: 1, ...identity, values }), "utf8");
}

export function decodeSecretPayload(
  plaintext: Buffer,
  expected: SecretIdentity,
): Record<string, string> {
  let doc: {
    v?: unknown;
    organizationId?: unknown;
    secretId?: unknown;
    version?: unknown;
    values?: unknown;
  };
  try {
    doc = JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw new SecretIntegrityError(
      `Stored data of secret version ${expected.version} is unreadable`,
    );
  }
  if (
    doc.v !== 1 ||
    doc.organizationId !== expected.organizationId ||
    doc.secretId !== expected.secretId ||
    doc.version !== expected.version
  ) {
    throw new SecretIntegrityError(
      `Stored data of secret version ${expected.version} belongs to another secret or version`,
    );
  }
  if (typeof doc.values !== "object" || doc.values === null)
    throw new SecretIntegrityError(
      `Stored data of secret version ${expected.version} is unreadable`,
    );
  return doc.values as Record<string, string>;
}
