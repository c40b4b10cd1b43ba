/**
 * The transit port: encryption as a service, shaped after HashiCorp Vault's transit
 * engine (https://developer.hashicorp.com/vault/api-docs/secret/transit). Coffer never
 * holds data keys itself; it asks the transit engine to encrypt, decrypt and rewrap
 * under a named, versioned key. Two adapters implement it: VaultTransit (a real Vault or
 * OpenBao) and LocalTransit (an embedded keyring with the same semantics).
 *
 * Rules every adapter follows (the contract suite in test/transit.contract.test.ts checks them):
 * - Ciphertexts look like Vault's: `vault:v<keyVersion>:<base64>`.
 * - Batch calls keep order; a batch either succeeds whole or throws TransitBatchError
 *   naming the failed indexes (never the plaintext).
 * - `rotateKey` adds a version; new encryptions use the latest; decrypt accepts any
 *   version ≥ minDecryptionVersion; `rewrap` moves a ciphertext to the latest version
 *   without revealing the plaintext to the caller.
 * - `deleteKey` destroys every version: its ciphertexts can never be decrypted again.
 * - No error message, log line or exception carries plaintext or ciphertext.
 */
export type TransitKeyInfo = {
  name: string;
  latestVersion: number;
  minDecryptionVersion: number;
};

export interface Transit {
  readonly kind: "local" | "vault";
  /** Idempotent: creating an existing key changes nothing. */
  createKey(name: string): Promise<void>;
  readKey(name: string): Promise<TransitKeyInfo | null>;
  rotateKey(name: string): Promise<TransitKeyInfo>;
  /** Raises (never lowers below 1) the oldest version that can still decrypt. */
  setMinDecryptionVersion(name: string, version: number): Promise<TransitKeyInfo>;
  /** Crypto-shredding: every version of the key is destroyed. */
  deleteKey(name: string): Promise<void>;
  encrypt(name: string, plaintexts: readonly Buffer[]): Promise<string[]>;
  decrypt(name: string, ciphertexts: readonly string[]): Promise<Buffer[]>;
  rewrap(name: string, ciphertexts: readonly string[]): Promise<string[]>;
}

/** The key version a ciphertext was made with, from its `vault:v<N>:` prefix. */
export function ciphertextKeyVersion(ciphertext: string): number {
  const match = /^vault:v(\d+):/.exec(ciphertext);
  if (!match) throw new Error("not a transit ciphertext");
  return Number(match[1]);
}

/** Coffer's transit key for one organization (so Vault policies can isolate tenants). */
export const organizationKeyName = (organizationId: string) => `coffer-org-${organizationId}`;
