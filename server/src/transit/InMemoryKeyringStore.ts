import type { KeyringStore, StoredKeyring } from "./KeyringStore.ts";
import type { TransitKeyInfo } from "./Transit.ts";

type Keyring = { info: TransitKeyInfo; keys: Map<number, Buffer> };

/**
 * Keyrings in this process's memory, for tests that want LocalTransit without a database.
 * Keys are not wrapped: nothing here outlives the process.
 */
export class InMemoryKeyringStore implements KeyringStore {
  private readonly keyrings = new Map<string, Keyring>();

  async read(name: string): Promise<StoredKeyring | null> {
    const keyring = this.keyrings.get(name);
    if (!keyring) return null;
    const keys = new Map(keyring.keys);
    return { info: { ...keyring.info }, key: (version) => keys.get(version) };
  }

  async create(name: string, key: Buffer): Promise<void> {
    if (this.keyrings.has(name)) return;
    this.keyrings.set(name, {
      info: { name, latestVersion: 1, minDecryptionVersion: 1 },
      keys: new Map([[1, Buffer.from(key)]]),
    });
  }

  async addVersion(name: string, key: Buffer): Promise<TransitKeyInfo | null> {
    const keyring = this.keyrings.get(name);
    if (!keyring) return null;
    keyring.info.latestVersion += 1;
    keyring.keys.set(keyring.info.latestVersion, Buffer.from(key));
    return { ...keyring.info };
  }

  async setMinDecryptionVersion(name: string, version: number): Promise<TransitKeyInfo | null> {
    const keyring = this.keyrings.get(name);
    if (!keyring) return null;
    if (version <= keyring.info.latestVersion) keyring.info.minDecryptionVersion = version;
    return { ...keyring.info };
  }

  async delete(name: string): Promise<void> {
    this.keyrings.delete(name);
  }
}
