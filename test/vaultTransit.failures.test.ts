import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  TransitBatchError,
  TransitInvalidRequestError,
  TransitKeyNotFoundError,
  TransitPermissionError,
  TransitUnavailableError,
} from "../server/src/transit/TransitError.ts";
import { VaultTransit, type VaultTransitOptions } from "../server/src/transit/VaultTransit.ts";
import {
  authenticationFailureFor,
  batchItemFailure,
  permissionDenied,
  refusedUrl,
  sealed,
  startVaultDouble,
  type VaultDouble,
} from "./testkit/vaultDouble.ts";

/**
 * VaultTransit's failure handling, against a double of Vault's HTTP API (test/testkit/
 * vaultDouble.ts) that can be made to deny, seal, time out or fail N times on demand. What
 * VaultTransit does when Vault works is the contract suite's job, against a real Vault.
 */
const KEY = "coffer-org-failures";
const plaintext = Buffer.from("correct horse battery staple 4242");
const plaintextB64 = plaintext.toString("base64");
// The double's toy ciphertext carries the base64 plaintext: two values that must not leak.
const ciphertext = `vault:v1:${plaintextB64}`;
const SECRETS = [plaintext.toString(), plaintextB64, ciphertext];

let double: VaultDouble;
const transits: VaultTransit[] = [];

function vault(options: Partial<VaultTransitOptions> = {}): VaultTransit {
  const transit = new VaultTransit({
    address: double.url,
    auth: { kind: "token", token: "test-token" },
    timeoutMs: 500,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    breaker: { failureThreshold: 100, coolDownMs: 1_000 },
    ...options,
  });
  transits.push(transit);
  return transit;
}

beforeEach(async () => {
  double = await startVaultDouble();
  double.createKey(KEY);
});

afterEach(async () => {
  await Promise.all(transits.splice(0).map((t) => t.stop()));
  await double.close();
});

describe("VaultTransit maps Vault's failures to typed errors", () => {
  it("403 permission denied → TransitPermissionError, not retried", async () => {
    double.always(permissionDenied, /decrypt/);
    const error = await failure(vault().decrypt(KEY, [ciphertext]));
    expect(error).toBeInstanceOf(TransitPermissionError);
    expect((error as Error).message).toMatch(
      /decrypt with transit key 'coffer-org-failures'.*403.*permission denied/,
    );
    expect(double.requestsTo(/decrypt/)).toHaveLength(1);
    expectClean(error);
  });

  it("503 sealed → TransitUnavailableError after retrying an idempotent call", async () => {
    double.always(sealed, /decrypt/);
    const error = await failure(vault().decrypt(KEY, [ciphertext]));
    expect(error).toBeInstanceOf(TransitUnavailableError);
    expect((error as Error).message).toMatch(/503.*Vault is sealed/);
    expect(double.requestsTo(/decrypt/)).toHaveLength(3);
    expectClean(error);
  });

  it("400 with batch_results → TransitBatchError naming the failed items, not retried", async () => {
    double.fail(1, batchItemFailure(1, "invalid ciphertext: unable to decrypt"), /decrypt/);
    const batch = [ciphertext, `vault:v1:${Buffer.from("second").toString("base64")}`, ciphertext];
    const error = await failure(vault().decrypt(KEY, batch));
    expect(error).toBeInstanceOf(TransitBatchError);
    expect((error as TransitBatchError).failedIndexes).toEqual([1]);
    expect((error as Error).message).toMatch(/1 of 3 items.*unable to decrypt/);
    expect(double.requestsTo(/decrypt/)).toHaveLength(1);
    // The double's 400 carries the other items' plaintexts, as Vault's does.
    expectClean(error);
  });

  it("500 'message authentication failed' in a rewrap → finds the items by halving, no retries", async () => {
    const transit = vault({ breaker: { failureThreshold: 2, coolDownMs: 10_000 } });
    double.always(authenticationFailureFor("TAMPERED"), /rewrap/);
    const batch = Array.from({ length: 8 }, (_, i) =>
      i === 2 || i === 5 ? `vault:v1:TAMPERED${plaintextB64}` : ciphertext,
    );
    const error = await failure(transit.rewrap(KEY, batch));
    expect(error).toBeInstanceOf(TransitBatchError);
    expect((error as TransitBatchError).failedIndexes).toEqual([2, 5]);
    // 8 → 4+4 → 2+2+2+2 → the four halves holding a culprit split once more: 1 + 2 + 4 + 4.
    expect(double.requestsTo(/rewrap/)).toHaveLength(11);
    expectClean(error);
    // Vault answered every time: the circuit stays closed.
    expect(await transit.rewrap(KEY, [ciphertext])).toHaveLength(1);
  });

  it("gives up halving after its budget and reports the unexamined items failed", async () => {
    const transit = vault();
    double.always(authenticationFailureFor("vault:"), /rewrap/); // every item fails
    const batch = Array.from({ length: 200 }, () => ciphertext);
    const error = await failure(transit.rewrap(KEY, batch));
    expect((error as TransitBatchError).failedIndexes).toEqual(batch.map((_, i) => i));
    expect(double.requestsTo(/rewrap/).length).toBeLessThanOrEqual(65);
  });

  it("a missing key → TransitKeyNotFoundError; readKey answers null", async () => {
    const transit = vault();
    const missing = "coffer-org-missing";
    expect(await transit.readKey(missing)).toBeNull();
    for (const attempt of [
      () => transit.decrypt(missing, [ciphertext]), // 400 "encryption key not found"
      () => transit.rewrap(missing, [ciphertext]),
      () => transit.rotateKey(missing), // 400 "no existing key named …"
      () => transit.setMinDecryptionVersion(missing, 1),
      () => transit.encrypt(missing, [plaintext]), // looked up first: 404
    ]) {
      const error = await failure(attempt());
      expect(error).toBeInstanceOf(TransitKeyNotFoundError);
      expectClean(error);
    }
    // encrypt never asked Vault to encrypt under (and so create) the missing key.
    expect(double.requestsTo(/^transit\/encrypt\//)).toHaveLength(0);
    await transit.deleteKey(missing); // idempotent
  });

  it("a key deleted by another process → TransitKeyNotFoundError from encrypt, not 403", async () => {
    const [a, b] = [vault(), vault()];
    expect(await a.encrypt(KEY, [plaintext])).toHaveLength(1); // a now believes KEY exists
    await b.deleteKey(KEY);
    const error = await failure(a.encrypt(KEY, [plaintext]));
    expect(error).toBeInstanceOf(TransitKeyNotFoundError);
    expectClean(error);
  });

  it("a 404 for a missing route is a configuration error, not a missing key", async () => {
    const transit = vault({ mount: "not-mounted" });
    const error = await failure(transit.readKey(KEY));
    expect(error).toBeInstanceOf(TransitInvalidRequestError);
    expect((error as Error).message).toMatch(/mounted at 'not-mounted'/);
    await expect(transit.deleteKey(KEY)).rejects.toBeInstanceOf(TransitInvalidRequestError);
  });

  it("a slow Vault → TransitUnavailableError once the timeout passes", async () => {
    double.always({ delayMs: 2_000 }, /decrypt/);
    const started = Date.now();
    const error = await failure(vault({ timeoutMs: 150 }).decrypt(KEY, [ciphertext]));
    expect(error).toBeInstanceOf(TransitUnavailableError);
    expect((error as Error).message).toMatch(/did not answer .* within 150 ms/);
    expect(double.requestsTo(/decrypt/)).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(1_500);
    expectClean(error);
  });

  it("connection refused → TransitUnavailableError", async () => {
    const error = await failure(vault({ address: await refusedUrl() }).decrypt(KEY, [ciphertext]));
    expect(error).toBeInstanceOf(TransitUnavailableError);
    expect((error as Error).message).toMatch(/unreachable.*ECONNREFUSED/);
    expectClean(error);
  });

  it("never echoes a ciphertext or plaintext that Vault quotes back in an error", async () => {
    double.always(
      { status: 400, body: { errors: [`invalid ciphertext ${ciphertext} (${plaintextB64})`] } },
      /decrypt/,
    );
    const error = await failure(vault().decrypt(KEY, [ciphertext]));
    expect(error).toBeInstanceOf(TransitInvalidRequestError);
    expect((error as Error).message).toMatch(/invalid ciphertext \[ciphertext\]/);
    expectClean(error);
  });
});

describe("VaultTransit retries and its circuit breaker", () => {
  it("retries idempotent calls that failed with 503 and succeeds", async () => {
    const transit = vault();
    double.fail(2, sealed, /decrypt/);
    expect((await transit.decrypt(KEY, [ciphertext]))[0]!.toString()).toBe(plaintext.toString());
    expect(double.requestsTo(/decrypt/)).toHaveLength(3);

    double.fail(2, sealed, /rewrap/);
    expect(await transit.rewrap(KEY, [ciphertext])).toHaveLength(1);
    expect(double.requestsTo(/rewrap/)).toHaveLength(3);

    double.fail(1, { status: 502 }, /keys\/coffer-org-new$/);
    await transit.createKey("coffer-org-new");
    expect(double.requestsTo(/keys\/coffer-org-new$/)).toHaveLength(2);

    double.fail(2, sealed, /keys\/coffer-org-failures$/);
    expect((await transit.readKey(KEY))?.latestVersion).toBe(1);
  });

  it("does not retry a rotation", async () => {
    const transit = vault();
    double.fail(1, sealed, /rotate/);
    await expect(transit.rotateKey(KEY)).rejects.toBeInstanceOf(TransitUnavailableError);
    expect(double.requestsTo(/rotate/)).toHaveLength(1);
    expect((await transit.rotateKey(KEY)).latestVersion).toBe(2);
    expect(double.requestsTo(/rotate/)).toHaveLength(2);
  });

  it("opens after consecutive failures, fails fast, then recovers after the cool-down", async () => {
    const transit = vault({
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      breaker: { failureThreshold: 3, coolDownMs: 300 },
    });
    double.always(sealed, /decrypt/);
    for (let i = 0; i < 3; i++) {
      await expect(transit.decrypt(KEY, [ciphertext])).rejects.toThrow(/sealed/);
    }
    expect(double.requestsTo(/decrypt/)).toHaveLength(3);
    // Open: no request reaches Vault.
    const fast = await failure(transit.decrypt(KEY, [ciphertext]));
    expect(fast).toBeInstanceOf(TransitUnavailableError);
    expect((fast as Error).message).toMatch(/circuit breaker open/);
    expect(double.requestsTo(/decrypt/)).toHaveLength(3);
    expectClean(fast);

    // After the cool-down one trial goes through; its failure opens the circuit again.
    await sleep(350);
    await expect(transit.decrypt(KEY, [ciphertext])).rejects.toThrow(/sealed/);
    await expect(transit.decrypt(KEY, [ciphertext])).rejects.toThrow(/circuit breaker open/);
    expect(double.requestsTo(/decrypt/)).toHaveLength(4);

    // Vault is back: the next trial succeeds and closes it.
    double.heal();
    await sleep(350);
    expect(await transit.decrypt(KEY, [ciphertext])).toHaveLength(1);
    expect(await transit.decrypt(KEY, [ciphertext])).toHaveLength(1);
    expect(double.requestsTo(/decrypt/)).toHaveLength(6);
  });

  it("counts only unavailability: a 400 does not open the circuit", async () => {
    const transit = vault({
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      breaker: { failureThreshold: 2, coolDownMs: 10_000 },
    });
    double.fail(1, sealed, /decrypt/);
    double.fail(1, batchItemFailure(0, "invalid ciphertext: no prefix"), /decrypt/);
    double.fail(1, sealed, /decrypt/);
    await expect(transit.decrypt(KEY, [ciphertext])).rejects.toBeInstanceOf(
      TransitUnavailableError,
    );
    await expect(transit.decrypt(KEY, [ciphertext])).rejects.toBeInstanceOf(TransitBatchError);
    await expect(transit.decrypt(KEY, [ciphertext])).rejects.toBeInstanceOf(
      TransitUnavailableError,
    );
    expect(await transit.decrypt(KEY, [ciphertext])).toHaveLength(1);
  });
});

describe("VaultTransit authentication", () => {
  it("logs in with AppRole, and once more when Vault refuses the token", async () => {
    const transit = vault({ auth: { kind: "appRole", roleId: "role", secretId: "secret-id" } });
    expect(await transit.readKey(KEY)).not.toBeNull();
    expect(double.logins).toBe(1);
    const [login] = double.requestsTo(/approle\/login/);
    expect(login!.body).toEqual({ role_id: "role", secret_id: "secret-id" });
    expect(login!.headers["x-vault-token"]).toBeUndefined();
    expect(double.requestsTo(/keys\//).at(-1)!.headers["x-vault-token"]).toBe("approle-token-1");

    double.revoke("approle-token-1"); // as if it expired
    expect(await transit.decrypt(KEY, [ciphertext])).toHaveLength(1);
    expect(double.logins).toBe(2);
    expect(double.requestsTo(/decrypt/).map((r) => r.headers["x-vault-token"])).toEqual([
      "approle-token-1",
      "approle-token-2",
    ]);
  });

  it("reports a refused AppRole login as TransitPermissionError", async () => {
    double.always({ status: 400, body: { errors: ["invalid role or secret ID"] } }, /login/);
    const transit = vault({ auth: { kind: "appRole", roleId: "role", secretId: "wrong" } });
    const error = await failure(transit.readKey(KEY));
    expect(error).toBeInstanceOf(TransitPermissionError);
    expect((error as Error).message).toMatch(/AppRole login.*invalid role or secret ID/);
    expect((error as Error).message).not.toContain("wrong");
  });

  it("a static token that Vault refuses is not retried", async () => {
    double.revoke("test-token");
    await expect(vault().readKey(KEY)).rejects.toBeInstanceOf(TransitPermissionError);
    expect(double.requests).toHaveLength(1);
  });

  it("reads the token from a file and picks up a new one", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "coffer-token-"));
    try {
      const file = path.join(dir, "token");
      await writeFile(file, "file-token-1\n");
      const transit = vault({ auth: { kind: "tokenFile", path: file }, tokenFileCheckMs: 0 });
      await transit.readKey(KEY);
      await writeFile(file, "file-token-2\n");
      await transit.readKey(KEY);
      expect(double.requests.map((r) => r.headers["x-vault-token"])).toEqual([
        "file-token-1",
        "file-token-2",
      ]);

      // Not checked for a while, but a 403 makes it read the file again at once.
      const lazy = vault({ auth: { kind: "tokenFile", path: file }, tokenFileCheckMs: 60_000 });
      await lazy.readKey(KEY);
      double.revoke("file-token-2");
      await writeFile(file, "file-token-3\n");
      expect(await lazy.readKey(KEY)).not.toBeNull();
      expect(double.requests.slice(-2).map((r) => r.headers["x-vault-token"])).toEqual([
        "file-token-2",
        "file-token-3",
      ]);

      await rm(file);
      const gone = vault({ auth: { kind: "tokenFile", path: file } });
      await expect(gone.readKey(KEY)).rejects.toThrow(/cannot read the Vault token file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("renews a periodic token at half its TTL until stopped", async () => {
    await double.close();
    double = await startVaultDouble({ tokenTtlSeconds: 2, renewable: true });
    const transit = vault();
    await transit.startTokenRenewal();
    expect(double.requestsTo(/lookup-self/)).toHaveLength(1);
    await sleep(1_300);
    expect(double.requestsTo(/renew-self/)).toHaveLength(1);
    expect(double.requestsTo(/renew-self/)[0]!.headers["x-vault-token"]).toBe("test-token");
    await transit.stop();
    await sleep(1_000);
    expect(double.requestsTo(/renew-self/)).toHaveLength(1);
  });

  it("sends the namespace header when configured", async () => {
    await vault({ namespace: "team-a" }).readKey(KEY);
    expect(double.requests[0]!.headers["x-vault-namespace"]).toBe("team-a");
  });
});

describe("VaultTransit requests", () => {
  it("creates keys without exportable or allow_plaintext_backup (the policy denies them)", async () => {
    await vault().createKey("coffer-org-fresh");
    const [create] = double.requestsTo(/keys\/coffer-org-fresh$/);
    expect(create!.method).toBe("POST");
    expect(Object.keys(create!.body)).toEqual(["type"]);
  });

  it("deletes a key by allowing deletion in its config, then DELETE", async () => {
    await vault().deleteKey(KEY);
    expect(double.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ["POST", `transit/keys/${KEY}/config`, { deletion_allowed: true }],
      ["DELETE", `transit/keys/${KEY}`, undefined],
    ]);
  });

  it("sends batches as base64 batch_input and keeps their order", async () => {
    const transit = vault();
    const inputs = [Buffer.from("a"), Buffer.alloc(0), Buffer.from([0, 255])];
    const ciphertexts = await transit.encrypt(KEY, inputs);
    expect(double.requestsTo(/encrypt/)[0]!.body).toEqual({
      batch_input: inputs.map((p) => ({ plaintext: p.toString("base64") })),
    });
    const decrypted = await transit.decrypt(KEY, ciphertexts);
    expect(decrypted.map((b) => b.toString("hex"))).toEqual(inputs.map((b) => b.toString("hex")));
  });
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

/** Neither the message, the JSON form nor the stack carries the test's plaintext or ciphertext. */
function expectClean(error: unknown) {
  const views = [
    (error as Error).message,
    JSON.stringify(error),
    String((error as Error).stack),
    String(error),
  ];
  for (const secret of SECRETS) for (const view of views) expect(view).not.toContain(secret);
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
