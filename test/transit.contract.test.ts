import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type Db } from "../server/src/db/database.ts";
import { InMemoryKeyringStore } from "../server/src/transit/InMemoryKeyringStore.ts";
import { LocalTransit } from "../server/src/transit/LocalTransit.ts";
import { PrismaKeyringStore } from "../server/src/transit/PrismaKeyringStore.ts";
import { ciphertextKeyVersion, type Transit } from "../server/src/transit/Transit.ts";
import {
  TransitBatchError,
  TransitInvalidRequestError,
  TransitKeyNotFoundError,
} from "../server/src/transit/TransitError.ts";
import { VaultTransit } from "../server/src/transit/VaultTransit.ts";
import { createTestDatabase, type TestDatabase } from "./testkit/database.ts";

/**
 * The transit port's contract (server/src/transit/Transit.ts), run against every adapter:
 * LocalTransit over a real PostgreSQL always, LocalTransit over the in-memory store, and
 * VaultTransit against a real Vault when VAULT_ADDR and VAULT_TOKEN are set (docker compose
 * brings one up). Keys get a random suffix, so runs against one Vault do not collide.
 */
type Fixture = {
  transit: Transit;
  /** Deletes what the suite created (a real Vault outlives the run). */
  cleanup(): Promise<void>;
};

const VAULT_ADDR = process.env.VAULT_ADDR;
const VAULT_TOKEN = process.env.VAULT_TOKEN;

describe("LocalTransit (PostgreSQL keyring store)", () => {
  let database: TestDatabase;
  const clients: Db[] = [];
  const masterKey = randomBytes(32);
  const newTransit = () => {
    const db = createPrismaClient(database.appUrl, 4);
    clients.push(db);
    return new LocalTransit(new PrismaKeyringStore(db, masterKey));
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(clients.map((db) => db.$disconnect()));
  });

  transitContract(async () => ({ transit: newTransit(), cleanup: async () => undefined }));

  describe("across processes sharing the database", () => {
    it("loses no version when two instances rotate the same key concurrently", async () => {
      const [a, b] = [newTransit(), newTransit()];
      const name = keyName("concurrent");
      await a.createKey(name);
      const rotations = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).rotateKey(name)),
      );
      // Every rotation got its own version: 2..21, none twice.
      expect(rotations.map((r) => r.latestVersion).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 2),
      );
      expect(await b.readKey(name)).toEqual({ name, latestVersion: 21, minDecryptionVersion: 1 });
      const [row] = await database.admin<{ versions: string[] }>(
        "SELECT array(SELECT jsonb_object_keys(keys)) AS versions FROM transit_keyrings WHERE name = $1",
        [name],
      );
      expect(row!.versions.map(Number).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 21 }, (_, i) => i + 1),
      );
      const [ciphertext] = await a.encrypt(name, [Buffer.from("after 20 rotations")]);
      expect(ciphertextKeyVersion(ciphertext!)).toBe(21);
      expect((await b.decrypt(name, [ciphertext!]))[0]!.toString()).toBe("after 20 rotations");
    });

    it("sees another instance's rotation and deletion on its next call", async () => {
      const [a, b] = [newTransit(), newTransit()];
      const name = keyName("visibility");
      await a.createKey(name);
      const [old] = await a.encrypt(name, [Buffer.from("cached")]);
      await a.decrypt(name, [old!]); // a has now cached version 1's key
      await b.rotateKey(name);
      const [fresh] = await a.encrypt(name, [Buffer.from("cached")]);
      expect(ciphertextKeyVersion(fresh!)).toBe(2);
      await b.deleteKey(name);
      await expect(a.decrypt(name, [old!])).rejects.toBeInstanceOf(TransitKeyNotFoundError);
      // Created again under the same name: a's cached keys of the old keyring are useless.
      await b.createKey(name);
      await expect(a.decrypt(name, [old!])).rejects.toBeInstanceOf(TransitBatchError);
    });

    it("stores only wrapped keys, bound to their keyring and version", async () => {
      const transit = newTransit();
      const [x, y] = [keyName("wrapped-x"), keyName("wrapped-y")];
      await transit.createKey(x);
      await transit.createKey(y);
      const [ciphertext] = await transit.encrypt(y, [Buffer.from("bound")]);
      // Copy x's wrapped key over y's: it must not unwrap as y's.
      await database.admin(
        "UPDATE transit_keyrings SET keys = (SELECT keys FROM transit_keyrings WHERE name = $1) WHERE name = $2",
        [x, y],
      );
      const error = await failure(newTransit().decrypt(y, [ciphertext!]));
      expect(String(error)).toMatch(/cannot be unwrapped/);
      // Another master key cannot unwrap anything.
      const db = createPrismaClient(database.appUrl, 2);
      clients.push(db);
      const stranger = new LocalTransit(new PrismaKeyringStore(db, randomBytes(32)));
      expect(String(await failure(stranger.encrypt(x, [Buffer.from("z")])))).toMatch(
        /cannot be unwrapped/,
      );
    });
  });
});

describe("LocalTransit (PostgreSQL keyring store, cached while subscribed to keyring changes)", () => {
  let database: TestDatabase;
  const clients: Db[] = [];
  const stops: (() => Promise<void>)[] = [];
  const masterKey = randomBytes(32);
  let statements = 0;
  const newTransit = async (options: { listen: boolean } = { listen: true }) => {
    const db = createPrismaClient(database.appUrl, 4, () => statements++);
    clients.push(db);
    const store = new PrismaKeyringStore(db, masterKey);
    if (options.listen) stops.push(await store.listen(database.appUrl));
    return new LocalTransit(store);
  };
  /** Bounded wait for another instance's change to be announced (LISTEN/NOTIFY). */
  const eventually = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await Promise.all(clients.map((db) => db.$disconnect()));
  });

  transitContract(async () => ({ transit: await newTransit(), cleanup: async () => undefined }));

  it("encrypts and decrypts from memory once the keyring was read", async () => {
    const transit = await newTransit();
    const name = keyName("cached");
    await transit.createKey(name);
    const [ciphertext] = await transit.encrypt(name, [Buffer.from("payload")]);
    // Our own createKey is announced too, and may drop the copy once, after a short delay.
    const cached = await eventually(async () => {
      statements = 0;
      await transit.decrypt(name, [ciphertext!]);
      return statements === 0;
    });
    expect(cached).toBe(true);
    statements = 0;
    for (let i = 0; i < 5; i++) await transit.decrypt(name, [ciphertext!]);
    expect(statements).toBe(0);
  });

  it("sees another instance's rotation, minimum version and deletion", async () => {
    const a = await newTransit();
    const b = await newTransit({ listen: false });
    const name = keyName("shared");
    await a.createKey(name);
    const [old] = await a.encrypt(name, [Buffer.from("old")]);
    expect(ciphertextKeyVersion(old!)).toBe(1);
    await b.rotateKey(name);
    expect(
      await eventually(
        async () => ciphertextKeyVersion((await a.encrypt(name, [Buffer.from("x")]))[0]!) === 2,
      ),
    ).toBe(true);
    await b.setMinDecryptionVersion(name, 2);
    expect(
      await eventually(() =>
        a.decrypt(name, [old!]).then(
          () => false,
          () => true,
        ),
      ),
    ).toBe(true);
    await b.deleteKey(name);
    expect(await eventually(async () => (await a.readKey(name)) === null)).toBe(true);
  });
});

describe("LocalTransit (in-memory keyring store)", () => {
  transitContract(async () => ({
    transit: new LocalTransit(new InMemoryKeyringStore()),
    cleanup: async () => undefined,
  }));
});

describe.skipIf(!VAULT_ADDR || !VAULT_TOKEN)(
  "VaultTransit (set VAULT_ADDR and VAULT_TOKEN to run)",
  () => {
    transitContract(async () => {
      const transit = new VaultTransit({
        address: VAULT_ADDR!,
        auth: { kind: "token", token: VAULT_TOKEN! },
      });
      return {
        transit,
        cleanup: async () => {
          for (const name of createdKeys) await transit.deleteKey(name).catch(() => undefined);
          await transit.stop();
        },
      };
    });
  },
);

// --- The contract --------------------------------------------------------------------

const runId = randomBytes(4).toString("hex");
const createdKeys = new Set<string>();

/** Under coffer-org-, so a real Vault's coffer policy would allow it too. */
function keyName(label: string): string {
  const name = `coffer-org-contract-${runId}-${label}`;
  createdKeys.add(name);
  return name;
}

function transitContract(setup: () => Promise<Fixture>) {
  let fixture: Fixture;
  let transit: Transit;
  beforeAll(async () => {
    fixture = await setup();
    transit = fixture.transit;
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  // Distinctive values that no error may ever carry.
  const secret = Buffer.from(`the-plaintext-${randomBytes(8).toString("hex")}`);

  it("round-trips a batch in order: empty, binary, 64 KiB and text values", async () => {
    const name = keyName(`${transit.kind}-roundtrip`);
    await transit.createKey(name);
    const plaintexts = [
      Buffer.alloc(0),
      randomBytes(64 * 1024),
      Buffer.from([0, 255, 0, 1, 128]),
      Buffer.from("héllo ✓"),
      Buffer.alloc(0),
    ];
    const ciphertexts = await transit.encrypt(name, plaintexts);
    expect(ciphertexts).toHaveLength(plaintexts.length);
    for (const ciphertext of ciphertexts) {
      expect(ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
    }
    const decrypted = await transit.decrypt(name, ciphertexts);
    expect(decrypted.map((b) => b.toString("hex"))).toEqual(
      plaintexts.map((b) => b.toString("hex")),
    );
    // A fresh nonce each time: the same plaintext never encrypts the same way twice.
    const again = await transit.encrypt(name, [plaintexts[3]!, plaintexts[3]!]);
    expect(new Set([...again, ciphertexts[3]]).size).toBe(3);
    expect(await transit.encrypt(name, [])).toEqual([]);
    expect(await transit.decrypt(name, [])).toEqual([]);
  });

  it("encrypts under the newest version after a rotation, and old ciphertexts still decrypt", async () => {
    const name = keyName(`${transit.kind}-rotate`);
    await transit.createKey(name);
    expect(await transit.readKey(name)).toEqual({
      name,
      latestVersion: 1,
      minDecryptionVersion: 1,
    });
    const [v1] = await transit.encrypt(name, [Buffer.from("one")]);
    expect(await transit.rotateKey(name)).toEqual({
      name,
      latestVersion: 2,
      minDecryptionVersion: 1,
    });
    const [v2] = await transit.encrypt(name, [Buffer.from("two")]);
    expect(ciphertextKeyVersion(v1!)).toBe(1);
    expect(ciphertextKeyVersion(v2!)).toBe(2);
    expect((await transit.decrypt(name, [v2!, v1!])).map(String)).toEqual(["two", "one"]);
  });

  it("rewraps to the newest version without changing the plaintext", async () => {
    const name = keyName(`${transit.kind}-rewrap`);
    await transit.createKey(name);
    const plaintexts = [Buffer.from("alpha"), Buffer.alloc(0), randomBytes(300)];
    const old = await transit.encrypt(name, plaintexts);
    await transit.rotateKey(name);
    await transit.rotateKey(name);
    const rewrapped = await transit.rewrap(name, old);
    expect(rewrapped.map(ciphertextKeyVersion)).toEqual([3, 3, 3]);
    expect(rewrapped).not.toEqual(old);
    const decrypted = await transit.decrypt(name, rewrapped);
    expect(decrypted.map((b) => b.toString("hex"))).toEqual(
      plaintexts.map((b) => b.toString("hex")),
    );
    // Rewrapping what is already on the newest version keeps it there.
    expect((await transit.rewrap(name, rewrapped)).map(ciphertextKeyVersion)).toEqual([3, 3, 3]);
  });

  it("refuses versions below the minimum decryption version, failing the whole batch", async () => {
    const name = keyName(`${transit.kind}-min`);
    await transit.createKey(name);
    const plain = (version: number) => `${secret.toString()}-v${version}`;
    const [v1] = await transit.encrypt(name, [Buffer.from(plain(1))]);
    await transit.rotateKey(name);
    const [v2] = await transit.encrypt(name, [Buffer.from(plain(2))]);
    await transit.rotateKey(name);
    const [v3] = await transit.encrypt(name, [Buffer.from(plain(3))]);
    expect(await transit.setMinDecryptionVersion(name, 3)).toEqual({
      name,
      latestVersion: 3,
      minDecryptionVersion: 3,
    });
    const batch = [v3!, v1!, v3!, v2!];
    const error = await failure(transit.decrypt(name, batch));
    expect(error).toBeInstanceOf(TransitBatchError);
    expect((error as TransitBatchError).failedIndexes).toEqual([1, 3]);
    expectClean(error, [...batch, plain(1), plain(2), plain(3)]);
    const rewrapError = await failure(transit.rewrap(name, batch));
    expect((rewrapError as TransitBatchError).failedIndexes).toEqual([1, 3]);
    expect((await transit.decrypt(name, [v3!])).map(String)).toEqual([plain(3)]);
    // Outside 1..latest is refused and changes nothing.
    await expect(transit.setMinDecryptionVersion(name, 4)).rejects.toBeInstanceOf(
      TransitInvalidRequestError,
    );
    await expect(transit.setMinDecryptionVersion(name, 0)).rejects.toBeInstanceOf(
      TransitInvalidRequestError,
    );
    expect((await transit.readKey(name))?.minDecryptionVersion).toBe(3);
    // Like Vault, the minimum can be lowered again while the versions still exist.
    await transit.setMinDecryptionVersion(name, 1);
    expect((await transit.decrypt(name, batch)).map(String)).toEqual([3, 1, 3, 2].map(plain));
  });

  it("rejects tampered, foreign-version and malformed ciphertexts by index", async () => {
    const name = keyName(`${transit.kind}-tamper`);
    await transit.createKey(name);
    const [good, victim] = await transit.encrypt(name, [Buffer.from("good"), secret]);
    const body = Buffer.from(victim!.slice("vault:v1:".length), "base64");
    body[body.length - 20]! ^= 0x01;
    const tampered = `vault:v1:${body.toString("base64")}`;
    const tooNew = victim!.replace("vault:v1:", "vault:v7:");
    const batch = [good!, tampered, "not a ciphertext", tooNew, "vault:v1:AAAA", good!];
    const error = await failure(transit.decrypt(name, batch));
    expect(error).toBeInstanceOf(TransitBatchError);
    expect((error as TransitBatchError).failedIndexes).toEqual([1, 2, 3, 4]);
    expectClean(error, [...batch, secret.toString(), secret.toString("base64")]);
    // Rewrap refuses the same items (Vault answers some of them with a 500 naming no item).
    const rewrapError = await failure(transit.rewrap(name, batch));
    expect(rewrapError).toBeInstanceOf(TransitBatchError);
    expect((rewrapError as TransitBatchError).failedIndexes).toEqual([1, 2, 3, 4]);
    expectClean(rewrapError, [...batch, secret.toString(), secret.toString("base64")]);
  });

  it("does not decrypt key A's ciphertext with key B", async () => {
    const [a, b] = [keyName(`${transit.kind}-a`), keyName(`${transit.kind}-b`)];
    await transit.createKey(a);
    await transit.createKey(b);
    const [ciphertext] = await transit.encrypt(a, [secret]);
    const error = await failure(transit.decrypt(b, [ciphertext!]));
    expect(error).toBeInstanceOf(TransitBatchError);
    expect((error as TransitBatchError).failedIndexes).toEqual([0]);
    expectClean(error, [ciphertext!, secret.toString(), secret.toString("base64")]);
    const [own] = await transit.encrypt(b, [Buffer.from("b's own")]);
    const rewrapError = await failure(transit.rewrap(b, [own!, ciphertext!]));
    expect((rewrapError as TransitBatchError).failedIndexes).toEqual([1]);
    expectClean(rewrapError, [ciphertext!, secret.toString(), secret.toString("base64")]);
  });

  it("creates keys idempotently: creating again does not rotate", async () => {
    const name = keyName(`${transit.kind}-idempotent`);
    await transit.createKey(name);
    await transit.createKey(name);
    expect((await transit.readKey(name))?.latestVersion).toBe(1);
    await transit.rotateKey(name);
    await transit.createKey(name);
    expect(await transit.readKey(name)).toEqual({
      name,
      latestVersion: 2,
      minDecryptionVersion: 1,
    });
  });

  it("crypto-shreds on deleteKey: its ciphertexts never decrypt again", async () => {
    const name = keyName(`${transit.kind}-shred`);
    await transit.createKey(name);
    await transit.rotateKey(name);
    const ciphertexts = await transit.encrypt(name, [secret, Buffer.from("other")]);
    await transit.deleteKey(name);
    expect(await transit.readKey(name)).toBeNull();
    for (const attempt of [
      () => transit.decrypt(name, ciphertexts),
      () => transit.rewrap(name, ciphertexts),
      () => transit.encrypt(name, [secret]),
    ]) {
      const error = await failure(attempt());
      expect(error).toBeInstanceOf(TransitKeyNotFoundError);
      expectClean(error, [...ciphertexts, secret.toString(), secret.toString("base64")]);
    }
    // Deleting again is a no-op; a new key under the same name is a different key.
    await transit.deleteKey(name);
    await transit.createKey(name);
    expect(await transit.readKey(name)).toEqual({
      name,
      latestVersion: 1,
      minDecryptionVersion: 1,
    });
    const error = await failure(transit.decrypt(name, ciphertexts));
    expect(error).toBeInstanceOf(TransitBatchError);
    expectClean(error, [...ciphertexts, secret.toString(), secret.toString("base64")]);
  });

  it("answers TransitKeyNotFoundError for every operation on an unknown key", async () => {
    const name = keyName(`${transit.kind}-unknown`);
    expect(await transit.readKey(name)).toBeNull();
    const ciphertext = "vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (const attempt of [
      () => transit.encrypt(name, [secret]),
      () => transit.decrypt(name, [ciphertext]),
      () => transit.rewrap(name, [ciphertext]),
      () => transit.rotateKey(name),
      () => transit.setMinDecryptionVersion(name, 1),
    ]) {
      const error = await failure(attempt());
      expect(error).toBeInstanceOf(TransitKeyNotFoundError);
      expectClean(error, [ciphertext, secret.toString(), secret.toString("base64")]);
    }
    expect(await transit.readKey(name)).toBeNull(); // nothing above created it
  });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

/** No message, JSON form or stack of `error` contains any of `values`. */
function expectClean(error: unknown, values: string[]) {
  const views = [
    (error as Error).message,
    JSON.stringify(error),
    String((error as Error).stack),
    String(error),
  ];
  for (const value of values) {
    for (const view of views) expect(view).not.toContain(value);
  }
}
