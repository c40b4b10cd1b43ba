import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../server/src/db/database.ts";
import { createLogger } from "../server/src/logger.ts";
import { createTransit } from "../server/src/transit/createTransit.ts";
import { loadMasterKey, MASTER_KEY_FILE, MasterKeyError } from "../server/src/transit/masterKey.ts";

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "coffer-master-key-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("loadMasterKey", () => {
  it("creates <dataDir>/transit-master.key with 32 random bytes, mode 0600, and reuses it", async () => {
    const nested = path.join(dataDir, "not-yet-there");
    const first = await loadMasterKey({ configured: undefined, dataDir: nested });
    const file = path.join(nested, MASTER_KEY_FILE);
    expect(first.origin).toBe(file);
    expect(first.key).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file)).toEqual(first.key);
    const second = await loadMasterKey({ configured: undefined, dataDir: nested });
    expect(second.key).toEqual(first.key);
  });

  it("gives every concurrent first start the same key", async () => {
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => loadMasterKey({ configured: undefined, dataDir })),
    );
    expect(new Set(keys.map((k) => k.key.toString("hex"))).size).toBe(1);
  });

  it("refuses a key file that group or others can read", async () => {
    const file = path.join(dataDir, MASTER_KEY_FILE);
    await writeFile(file, randomBytes(32), { mode: 0o600 });
    await chmod(file, 0o644);
    const error = await loadMasterKey({ configured: undefined, dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MasterKeyError);
    expect((error as Error).message).toMatch(/mode 0644 lets group or others read it.*chmod 600/);
  });

  it("refuses a key file of the wrong length instead of replacing it", async () => {
    const file = path.join(dataDir, MASTER_KEY_FILE);
    await writeFile(file, randomBytes(31), { mode: 0o600 });
    await expect(loadMasterKey({ configured: undefined, dataDir })).rejects.toThrow(
      /has 31 bytes instead of 32/,
    );
    expect(await readFile(file)).toHaveLength(31);
  });

  it("uses the configured key (COFFER_MASTER_KEY) and leaves the data directory alone", async () => {
    const configured = randomBytes(32);
    const loaded = await loadMasterKey({ configured, dataDir });
    expect(loaded).toEqual({ key: configured, origin: "COFFER_MASTER_KEY" });
    await expect(stat(path.join(dataDir, MASTER_KEY_FILE))).rejects.toThrow(/ENOENT/);
    await expect(loadMasterKey({ configured: randomBytes(16), dataDir })).rejects.toThrow(
      /exactly 32 bytes/,
    );
  });
});

describe("createTransit without VAULT_ADDR", () => {
  it("builds LocalTransit and warns loudly that it is for development", async () => {
    const logs: string[] = [];
    const logger = createLogger(
      "info",
      new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    // LocalTransit touches the database only when called.
    const handle = await createTransit(
      { kind: "local", masterKey: undefined },
      { db: {} as Db, dataDir, logger },
    );
    expect(handle.transit.kind).toBe("local");
    const warning = logs.map((line) => JSON.parse(line)).find((entry) => entry.level === 40);
    expect(warning.msg).toBe(
      "LocalTransit: development only — production should use Vault (VAULT_ADDR)",
    );
    expect(warning.masterKey).toBe(path.join(dataDir, MASTER_KEY_FILE));
    await handle.stop();
  });
});
