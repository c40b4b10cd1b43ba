import type { TransitKeyInfo } from "./Transit.ts";

/** One keyring as LocalTransit reads it: its versions and a way to get each version's key. */
export type StoredKeyring = {
  info: TransitKeyInfo;
  /**
   * The 32-byte AES key of a version, or undefined when the keyring has no such version.
   * Throws when a stored key cannot be unwrapped (wrong master key, tampered row).
   */
  key(version: number): Buffer | undefined;
};

/**
 * Where LocalTransit keeps its keyrings. Every method reads or changes the current stored
 * state (no caller-side snapshot), so other processes' rotations and deletions are seen by
 * the next call. Implementations: PrismaKeyringStore (the table `transit_keyrings`, keys
 * wrapped by the master key) and InMemoryKeyringStore (tests).
 */
export interface KeyringStore {
  read(name: string): Promise<StoredKeyring | null>;
  /** Creates the keyring with `key` as version 1; does nothing when it already exists. */
  create(name: string, key: Buffer): Promise<void>;
  /**
   * Adds `key` as version latest + 1 and makes it the latest. Concurrent calls (from any
   * process) are serialised: each adds its own version. Null when the keyring is missing.
   */
  addVersion(name: string, key: Buffer): Promise<TransitKeyInfo | null>;
  /**
   * Sets the minimum decryption version when `version` <= the latest version, and returns
   * the keyring's info either way (the caller sees whether it changed). Null when missing.
   */
  setMinDecryptionVersion(name: string, version: number): Promise<TransitKeyInfo | null>;
  /** Removes the keyring and every version's key; does nothing when it is missing. */
  delete(name: string): Promise<void>;
}
