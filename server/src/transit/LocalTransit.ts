import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { KeyringStore, StoredKeyring } from "./KeyringStore.ts";
import type { Transit, TransitKeyInfo } from "./Transit.ts";
import {
  TransitBatchError,
  TransitInvalidRequestError,
  TransitKeyNotFoundError,
} from "./TransitError.ts";
import { assertTransitKeyName } from "./transitKeyName.ts";

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// Strict: one canonical spelling per ciphertext, so a "v01" or a stray character fails
// like any other tampering instead of decoding leniently.
const CIPHERTEXT =
  /^vault:v([1-9][0-9]{0,9}):((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;

/**
 * The embedded transit engine: Vault's aes256-gcm96 keys and ciphertext format
 * (`vault:v<N>:base64(nonce | ciphertext | tag)`, 96-bit random nonce, no associated data)
 * with Vault's rotate / min_decryption_version / rewrap semantics, over a KeyringStore.
 * Every call reads the keyring once from the store, so a rotation or deletion made by
 * another process is in effect for the next call; the store caches unwrapped keys.
 */
export class LocalTransit implements Transit {
  readonly kind = "local" as const;

  constructor(private readonly store: KeyringStore) {}

  async createKey(name: string): Promise<void> {
    assertTransitKeyName(name);
    await this.store.create(name, randomBytes(KEY_BYTES));
  }

  async readKey(name: string): Promise<TransitKeyInfo | null> {
    assertTransitKeyName(name);
    return (await this.store.read(name))?.info ?? null;
  }

  async rotateKey(name: string): Promise<TransitKeyInfo> {
    assertTransitKeyName(name);
    return (await this.store.addVersion(name, randomBytes(KEY_BYTES))) ?? missing(name);
  }

  async setMinDecryptionVersion(name: string, version: number): Promise<TransitKeyInfo> {
    assertTransitKeyName(name);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new TransitInvalidRequestError(
        `minimum decryption version for transit key '${name}' must be an integer of at least 1`,
      );
    }
    const info = (await this.store.setMinDecryptionVersion(name, version)) ?? missing(name);
    if (info.minDecryptionVersion !== version) {
      throw new TransitInvalidRequestError(
        `minimum decryption version ${version} is above the latest version ${info.latestVersion} of transit key '${name}'`,
      );
    }
    return info;
  }

  async deleteKey(name: string): Promise<void> {
    assertTransitKeyName(name);
    await this.store.delete(name);
  }

  async encrypt(name: string, plaintexts: readonly Buffer[]): Promise<string[]> {
    const keyring = await this.keyring(name);
    return plaintexts.map((plaintext) => seal(keyring, plaintext));
  }

  async decrypt(name: string, ciphertexts: readonly string[]): Promise<Buffer[]> {
    return openAll(await this.keyring(name), ciphertexts, "decrypt");
  }

  async rewrap(name: string, ciphertexts: readonly string[]): Promise<string[]> {
    const keyring = await this.keyring(name);
    return openAll(keyring, ciphertexts, "rewrap").map((plaintext) => seal(keyring, plaintext));
  }

  private async keyring(name: string): Promise<StoredKeyring> {
    assertTransitKeyName(name);
    return (await this.store.read(name)) ?? missing(name);
  }
}

function missing(name: string): never {
  throw new TransitKeyNotFoundError(`transit key '${name}' does not exist`);
}

function seal(keyring: StoredKeyring, plaintext: Buffer): string {
  const version = keyring.info.latestVersion;
  const key = keyring.key(version);
  if (!key) throw new Error(`transit key '${keyring.info.name}' has no key for its latest version`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = Buffer.concat([
    nonce,
    cipher.update(plaintext),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return `vault:v${version}:${body.toString("base64")}`;
}

/** Opens every ciphertext or throws one TransitBatchError naming every failed index. */
function openAll(
  keyring: StoredKeyring,
  ciphertexts: readonly string[],
  operation: "decrypt" | "rewrap",
): Buffer[] {
  const plaintexts: Buffer[] = [];
  const failed: number[] = [];
  ciphertexts.forEach((ciphertext, index) => {
    const plaintext = open(keyring, ciphertext);
    if (plaintext) plaintexts.push(plaintext);
    else failed.push(index);
  });
  if (failed.length > 0) {
    throw new TransitBatchError(
      `${operation} with transit key '${keyring.info.name}' failed for ${failed.length} of ${ciphertexts.length} items (malformed, tampered, another key's, or a version below the minimum decryption version)`,
      failed,
    );
  }
  return plaintexts;
}

function open(keyring: StoredKeyring, ciphertext: string): Buffer | undefined {
  const match = CIPHERTEXT.exec(ciphertext);
  if (!match) return undefined;
  const version = Number(match[1]);
  const { latestVersion, minDecryptionVersion } = keyring.info;
  if (version < minDecryptionVersion || version > latestVersion) return undefined;
  const body = Buffer.from(match[2]!, "base64");
  if (body.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const key = keyring.key(version);
  if (!key) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    // Authentication failed: tampered, or made with another key. The reason stays here.
    return undefined;
  }
}
