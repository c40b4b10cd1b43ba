import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { preparedRows, type Db } from "../db/database.ts";
import { listen } from "../db/listen.ts";
import type { KeyringStore, StoredKeyring } from "./KeyringStore.ts";
import type { TransitKeyInfo } from "./Transit.ts";

const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

type WrappedKeys = Record<string, string>;
type Row = { name: string; latestVersion: number; minDecryptionVersion: number; keys: unknown };

/**
 * LocalTransit's keyrings in `transit_keyrings`. Each version's key is stored wrapped with
 * AES-256-GCM under the master key, with the key's name and version as associated data, so
 * a wrapped key copied to another keyring or version does not unwrap. The master key never
 * reaches the database.
 *
 * Unwrapped keys are cached per (name, version, wrapped bytes): every read still fetches
 * the row, so a deleted keyring is gone for the next call, and a keyring deleted and
 * created again under the same name never decrypts with its predecessor's cached keys.
 */
export class PrismaKeyringStore implements KeyringStore {
  private readonly cache = new Map<string, Map<number, { wrapped: string; key: Buffer }>>();
  /** Keyring rows, while subscribed to their changes (listen). */
  private readonly rows = new Map<string, Row>();
  private listening = false;
  /** Counts announced changes, so that a read racing one does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly masterKey: Buffer,
  ) {
    if (masterKey.length !== MASTER_KEY_BYTES) {
      throw new Error(`the transit master key must be ${MASTER_KEY_BYTES} bytes`);
    }
  }

  /**
   * Keeps keyring rows in memory while subscribed to coffer_keyring (a trigger announces
   * every change, from any process, when it commits: prisma/migrations/…_keyring_notify),
   * so an encryption or decryption needs no statement of its own. Without the subscription
   * (not started, or its connection lost) every read goes to the database, as before.
   * Returns the function that stops it.
   */
  async listen(
    connectionString: string,
    onLost?: (error: unknown) => void,
  ): Promise<() => Promise<void>> {
    const forget = () => {
      this.listening = false;
      this.generation++;
      this.rows.clear();
    };
    const stop = await listen(connectionString, "coffer_keyring", {
      onNotification: (name) => {
        this.generation++;
        if (name) this.rows.delete(name);
      },
      onSubscribed: () => {
        // Rows cached from now on are invalidated by whatever commits after this point.
        forget();
        this.listening = true;
      },
      onLost: (error) => {
        forget();
        onLost?.(error);
      },
    });
    return async () => {
      await stop();
      forget();
    };
  }

  async read(name: string): Promise<StoredKeyring | null> {
    let row = this.listening ? this.rows.get(name) : undefined;
    if (!row) {
      const generation = this.generation;
      // Every encryption and decryption reads its keyring: a prepared statement of its own.
      [row] = await preparedRows<Row>(
        this.db,
        "coffer_read_keyring",
        `SELECT name, latest_version AS "latestVersion", min_decryption_version AS "minDecryptionVersion", keys
         FROM transit_keyrings WHERE name = $1`,
        [name],
      );
      // Kept only if no change was announced meanwhile (the row might predate it).
      if (row && this.listening && generation === this.generation) this.rows.set(name, row);
    }
    if (!row) {
      this.cache.delete(name);
      return null;
    }
    const wrappedKeys = parseKeys(row);
    const cached = this.cache.get(name) ?? new Map<number, { wrapped: string; key: Buffer }>();
    this.cache.set(name, cached);
    // Versions no longer in the row (a keyring created again) leave the cache.
    for (const version of cached.keys()) {
      if (wrappedKeys[String(version)] === undefined) cached.delete(version);
    }
    return {
      info: info(row),
      key: (version) => {
        const wrapped = wrappedKeys[String(version)];
        if (wrapped === undefined) return undefined;
        const hit = cached.get(version);
        if (hit && hit.wrapped === wrapped) return hit.key;
        const key = this.unwrap(name, version, wrapped);
        cached.set(version, { wrapped, key });
        return key;
      },
    };
  }

  async create(name: string, key: Buffer): Promise<void> {
    return this.changing(name, async () => {
      const now = new Date();
      await this.db.transitKeyring.createMany({
        data: [
          {
            name,
            latestVersion: 1,
            minDecryptionVersion: 1,
            keys: { "1": this.wrap(name, 1, key) },
            createdAt: now,
            updatedAt: now,
          },
        ],
        skipDuplicates: true,
      });
    });
  }

  async addVersion(name: string, key: Buffer): Promise<TransitKeyInfo | null> {
    return this.changing(name, async () => {
      // The row lock serialises rotations from every process: each one reads the version
      // the previous one wrote, so no two rotations claim the same version.
      return this.db.$transaction(
        async (tx) => {
          const [row] = await tx.$queryRaw<Row[]>`
            SELECT name, latest_version AS "latestVersion",
                   min_decryption_version AS "minDecryptionVersion", keys
            FROM transit_keyrings WHERE name = ${name} FOR UPDATE`;
          if (!row) return null;
          const version = row.latestVersion + 1;
          const updated = await tx.transitKeyring.update({
            where: { name },
            data: {
              latestVersion: version,
              keys: { ...parseKeys(row), [String(version)]: this.wrap(name, version, key) },
              updatedAt: new Date(),
            },
          });
          return info(updated);
        },
        { maxWait: 5_000, timeout: 15_000 },
      );
    });
  }

  async setMinDecryptionVersion(name: string, version: number): Promise<TransitKeyInfo | null> {
    return this.changing(name, async () => {
      // One conditional UPDATE: the latest version only grows, so the check cannot go stale.
      await this.db.transitKeyring.updateMany({
        where: { name, latestVersion: { gte: version } },
        data: { minDecryptionVersion: version, updatedAt: new Date() },
      });
      const row = await this.db.transitKeyring.findUnique({ where: { name } });
      return row ? info(row) : null;
    });
  }

  async delete(name: string): Promise<void> {
    return this.changing(name, async () => {
      await this.db.transitKeyring.deleteMany({ where: { name } });
      this.cache.delete(name);
    });
  }

  /**
   * While this process changes a keyring, its cached row goes and reads in flight may not
   * cache; the announcement does the same in every other process when it commits.
   */
  private async changing<T>(name: string, write: () => Promise<T>): Promise<T> {
    const changed = () => {
      this.generation++;
      this.rows.delete(name);
    };
    changed();
    try {
      return await write();
    } finally {
      changed(); // and again once committed: a read meanwhile may have cached the old row
    }
  }

  private wrap(name: string, version: number, key: Buffer): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.masterKey, nonce);
    cipher.setAAD(associatedData(name, version));
    return Buffer.concat([nonce, cipher.update(key), cipher.final(), cipher.getAuthTag()]).toString(
      "base64",
    );
  }

  private unwrap(name: string, version: number, wrapped: string): Buffer {
    const body = Buffer.from(wrapped, "base64");
    try {
      if (body.length !== NONCE_BYTES + 32 + TAG_BYTES) throw new Error("wrong length");
      const decipher = createDecipheriv(
        "aes-256-gcm",
        this.masterKey,
        body.subarray(0, NONCE_BYTES),
        { authTagLength: TAG_BYTES },
      );
      decipher.setAAD(associatedData(name, version));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new Error(
        `transit keyring '${name}' version ${version} cannot be unwrapped: the master key is not the one it was stored with, or the row was altered`,
      );
    }
  }
}

function associatedData(name: string, version: number): Buffer {
  // Key names cannot contain NUL (transitKeyName.ts), so this encoding is unambiguous.
  return Buffer.from(`coffer-transit-keyring\0${name}\0${version}`, "utf8");
}

function info(row: Omit<Row, "keys">): TransitKeyInfo {
  return {
    name: row.name,
    latestVersion: row.latestVersion,
    minDecryptionVersion: row.minDecryptionVersion,
  };
}

function parseKeys(row: Row): WrappedKeys {
  const keys = row.keys;
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
    throw new Error(`transit keyring '${row.name}' has malformed keys`);
  }
  const result: WrappedKeys = {};
  for (const [version, wrapped] of Object.entries(keys)) {
    if (typeof wrapped !== "string")
      throw new Error(`transit keyring '${row.name}' has malformed keys`);
    result[version] = wrapped;
  }
  return result;
}
