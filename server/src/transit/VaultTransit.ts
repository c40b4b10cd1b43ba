import { readFile, stat } from "node:fs/promises";
import nodeVault from "node-vault";
import { CircuitBreaker, type CircuitBreakerOptions } from "./CircuitBreaker.ts";
import type { Transit, TransitKeyInfo } from "./Transit.ts";
import {
  TransitBatchError,
  TransitError,
  TransitInvalidRequestError,
  TransitKeyNotFoundError,
  TransitPermissionError,
  TransitUnavailableError,
} from "./TransitError.ts";
import { assertTransitKeyName } from "./transitKeyName.ts";

/** How VaultTransit authenticates. A token file is re-read when it changes. */
export type VaultAuth =
  | { kind: "token"; token: string }
  | { kind: "tokenFile"; path: string }
  | { kind: "appRole"; roleId: string; secretId: string };

export type RetryOptions = {
  /** Attempts in all, the first included; only idempotent calls get more than one. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
};

export type TransitLogger = {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
};

export type VaultTransitOptions = {
  /** Vault's address, e.g. https://vault.internal:8200 (no path). */
  address: string;
  auth: VaultAuth;
  /** The transit engine's mount path; default "transit". */
  mount?: string;
  /** Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. */
  namespace?: string | undefined;
  /** Per request, login and renewal included; default 5000. */
  timeoutMs?: number;
  retry?: RetryOptions;
  breaker?: CircuitBreakerOptions;
  /**
   * How long a key seen to exist is trusted before encrypt checks again. Vault's encrypt
   * endpoint creates a missing key (when the token may), so encrypt looks first.
   */
  keyExistenceTtlMs?: number;
  /** How often the token file's metadata is checked for a new token; default 5000. */
  tokenFileCheckMs?: number;
  logger?: TransitLogger;
  /** The HTTP client; default node-vault. Tests of VaultTransit itself may pass another. */
  http?: VaultHttp;
};

/** Per-request options VaultTransit passes to node-vault. */
export type VaultRequestOptions = { headers: Record<string, string>; timeout: number };

/**
 * The part of node-vault's client VaultTransit uses, typed (node-vault's own types are
 * `any`). Failures reject with node-vault's ApiResponseError (`response.statusCode`,
 * `response.body`) or axios' network errors (`code`); both carry the request, body and
 * all, so VaultTransit never lets them out (toTransitError builds new ones).
 */
export interface VaultHttp {
  read(path: string, options: VaultRequestOptions): Promise<unknown>;
  write(
    path: string,
    data: Record<string, unknown>,
    options: VaultRequestOptions,
  ): Promise<unknown>;
  delete(path: string, options: VaultRequestOptions): Promise<unknown>;
}

type Method = "GET" | "POST" | "DELETE";
type VaultRequest = { method: Method; path: string; body?: Record<string, unknown> };
type Operation =
  | "createKey"
  | "readKey"
  | "rotateKey"
  | "setMinDecryptionVersion"
  | "deleteKey"
  | "encrypt"
  | "decrypt"
  | "rewrap"
  | "login"
  | "renew-self"
  | "lookup-self";

const DEFAULT_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };
const DEFAULT_BREAKER: CircuitBreakerOptions = { failureThreshold: 5, coolDownMs: 10_000 };
const RENEWAL_RETRY_MS = 30_000;
/** Extra calls a decrypt or rewrap may spend finding which items Vault refused. */
const BISECT_BUDGET = 64;
const silentLogger: TransitLogger = { info: () => undefined, warn: () => undefined };

/**
 * The transit port over HashiCorp Vault / OpenBao's transit engine, through node-vault's
 * generic read/write/delete. Batches go as `batch_input`; Vault's errors become typed
 * TransitErrors built only from the status code and Vault's error strings (scrubbed), never
 * from node-vault's errors, which carry the request body. Idempotent calls are retried with
 * exponential backoff and jitter; a circuit breaker fails fast while Vault is down.
 */
export class VaultTransit implements Transit {
  readonly kind = "vault" as const;

  private readonly http: VaultHttp;
  private readonly mount: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly breaker: CircuitBreaker;
  private readonly keyExistenceTtlMs: number;
  private readonly tokenFileCheckMs: number;
  private readonly logger: TransitLogger;

  private token: string | undefined;
  private login: Promise<string> | undefined;
  private tokenFile: { checkedAt: number; fingerprint: string } | undefined;
  private renewalTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly knownKeys = new Map<string, number>();

  constructor(private readonly options: VaultTransitOptions) {
    this.mount = (options.mount ?? "transit").replace(/^\/+|\/+$/g, "");
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.breaker = new CircuitBreaker(options.breaker ?? DEFAULT_BREAKER);
    this.keyExistenceTtlMs = options.keyExistenceTtlMs ?? 30_000;
    this.tokenFileCheckMs = options.tokenFileCheckMs ?? 5_000;
    this.logger = options.logger ?? silentLogger;
    this.http = options.http ?? nodeVaultHttp(options.address, options.namespace);
    if (options.auth.kind === "token") this.token = options.auth.token;
  }

  // --- The port ------------------------------------------------------------------------

  async createKey(name: string): Promise<void> {
    assertTransitKeyName(name);
    // No exportable / allow_plaintext_backup, not even false: Coffer's policy denies them.
    await this.execute("createKey", name, this.keyRequest("POST", name, { type: "aes256-gcm96" }), {
      retry: true,
    });
    this.knownKeys.set(name, Date.now() + this.keyExistenceTtlMs);
  }

  async readKey(name: string): Promise<TransitKeyInfo | null> {
    assertTransitKeyName(name);
    try {
      const body = await this.execute("readKey", name, this.keyRequest("GET", name), {
        retry: true,
      });
      const info = keyInfo(name, body);
      if (!info) throw unexpectedResponse("readKey", name);
      this.knownKeys.set(name, Date.now() + this.keyExistenceTtlMs);
      return info;
    } catch (error) {
      if (!(error instanceof TransitKeyNotFoundError)) throw error;
      this.knownKeys.delete(name);
      return null;
    }
  }

  async rotateKey(name: string): Promise<TransitKeyInfo> {
    assertTransitKeyName(name);
    // Not retried: a rotation whose answer was lost may have happened, and a second one
    // would add a version nobody asked for.
    const request = this.keyRequest("POST", name, {}, "/rotate");
    const body = await this.execute("rotateKey", name, request, { retry: false });
    // Recent Vaults answer with the key; older ones with 204.
    return keyInfo(name, body) ?? (await this.readKey(name)) ?? missing(name);
  }

  async setMinDecryptionVersion(name: string, version: number): Promise<TransitKeyInfo> {
    assertTransitKeyName(name);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new TransitInvalidRequestError(
        `minimum decryption version for transit key '${name}' must be an integer of at least 1`,
      );
    }
    const body = await this.execute(
      "setMinDecryptionVersion",
      name,
      this.keyRequest("POST", name, { min_decryption_version: version }, "/config"),
      { retry: true },
    );
    // Recent Vaults answer with the key; older ones with 204.
    return keyInfo(name, body) ?? (await this.readKey(name)) ?? missing(name);
  }

  async deleteKey(name: string): Promise<void> {
    assertTransitKeyName(name);
    this.knownKeys.delete(name);
    try {
      // Vault refuses to delete a key until its config allows it; Coffer's policy grants
      // deletion_allowed on config and "delete" on the key for exactly this.
      await this.execute(
        "deleteKey",
        name,
        this.keyRequest("POST", name, { deletion_allowed: true }, "/config"),
        { retry: true },
      );
      await this.execute("deleteKey", name, this.keyRequest("DELETE", name), { retry: true });
    } catch (error) {
      // Already gone (an earlier attempt, another process): deleting is idempotent.
      if (!(error instanceof TransitKeyNotFoundError)) throw error;
    }
  }

  async encrypt(name: string, plaintexts: readonly Buffer[]): Promise<string[]> {
    assertTransitKeyName(name);
    await this.assertKeyExists(name);
    if (plaintexts.length === 0) return [];
    const request = this.batchRequest(
      "encrypt",
      name,
      plaintexts.map((plaintext) => ({ plaintext: plaintext.toString("base64") })),
    );
    let body: unknown;
    try {
      // Retried although not idempotent in form: encrypting changes nothing in Vault, and
      // a lost answer's ciphertexts are simply never stored.
      body = await this.execute("encrypt", name, request, {
        retry: true,
        items: plaintexts.length,
      });
    } catch (error) {
      // The key may have been deleted by another process since we looked: with Coffer's
      // policy Vault then answers 403 (creating a key through encrypt is not allowed).
      if (error instanceof TransitPermissionError) {
        this.knownKeys.delete(name);
        if (!(await this.readKey(name))) missing(name);
      }
      throw error;
    }
    return batchResults(body, "encrypt", name, plaintexts.length).map((item) => {
      if (typeof item.ciphertext !== "string" || !item.ciphertext.startsWith("vault:v")) {
        throw unexpectedResponse("encrypt", name);
      }
      return item.ciphertext;
    });
  }

  async decrypt(name: string, ciphertexts: readonly string[]): Promise<Buffer[]> {
    assertTransitKeyName(name);
    if (ciphertexts.length === 0) {
      await this.assertKeyExists(name);
      return [];
    }
    const items = await this.openBatch("decrypt", name, ciphertexts, { calls: BISECT_BUDGET });
    return items.map((item) => {
      // Vault leaves "plaintext" out for an empty one.
      if (item.plaintext === undefined || item.plaintext === null) return Buffer.alloc(0);
      if (typeof item.plaintext !== "string") throw unexpectedResponse("decrypt", name);
      return Buffer.from(item.plaintext, "base64");
    });
  }

  async rewrap(name: string, ciphertexts: readonly string[]): Promise<string[]> {
    assertTransitKeyName(name);
    if (ciphertexts.length === 0) {
      await this.assertKeyExists(name);
      return [];
    }
    const items = await this.openBatch("rewrap", name, ciphertexts, { calls: BISECT_BUDGET });
    return items.map((item) => {
      if (typeof item.ciphertext !== "string" || !item.ciphertext.startsWith("vault:v")) {
        throw unexpectedResponse("rewrap", name);
      }
      return item.ciphertext;
    });
  }

  /**
   * One decrypt or rewrap batch. Vault names failed items in `batch_results`, except when
   * an item fails authentication during rewrap (and during decrypt on older Vaults): the
   * whole call then answers 500 "cipher: message authentication failed" without saying
   * which item. That is not an outage, so it is not retried and does not count towards the
   * circuit breaker; the batch is split in halves until the culprits are found. `budget`
   * caps the extra calls (a batch made entirely of another key's ciphertexts would take 2n);
   * parts left unexamined when it runs out are reported failed as a whole.
   */
  private async openBatch(
    operation: "decrypt" | "rewrap",
    name: string,
    ciphertexts: readonly string[],
    budget: { calls: number },
  ): Promise<Record<string, unknown>[]> {
    try {
      const body = await this.execute(
        operation,
        name,
        this.batchRequest(
          operation,
          name,
          ciphertexts.map((ciphertext) => ({ ciphertext })),
        ),
        { retry: true, items: ciphertexts.length },
      );
      return batchResults(body, operation, name, ciphertexts.length);
    } catch (error) {
      if (!(error instanceof UnattributedBatchError)) throw error;
      if (ciphertexts.length === 1 || budget.calls < 2) {
        throw new TransitBatchError(
          error.message,
          ciphertexts.map((_, index) => index),
        );
      }
      budget.calls -= 2;
      const middle = Math.ceil(ciphertexts.length / 2);
      const results: Record<string, unknown>[] = [];
      const failed: number[] = [];
      for (const [offset, part] of [
        [0, ciphertexts.slice(0, middle)],
        [middle, ciphertexts.slice(middle)],
      ] as const) {
        try {
          results.push(...(await this.openBatch(operation, name, part, budget)));
        } catch (partError) {
          if (!(partError instanceof TransitBatchError)) throw partError;
          failed.push(...partError.failedIndexes.map((index) => index + offset));
        }
      }
      if (failed.length > 0) {
        throw new TransitBatchError(
          `Vault rejected ${failed.length} of ${ciphertexts.length} items of ${describe(operation, name)} (tampered, another key's, or below the minimum decryption version)`,
          failed,
        );
      }
      return results;
    }
  }

  // --- Lifecycle -----------------------------------------------------------------------

  /**
   * Keeps a renewable (periodic) token alive: renews it with auth/token/renew-self at half
   * its TTL, in the background (the timer does not keep the process alive). Never throws:
   * a Vault that is down now is logged and tried again later.
   */
  async startTokenRenewal(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.options.auth.kind === "appRole") {
        await this.currentToken(); // the login schedules the renewal
        return;
      }
      const body = await this.execute(
        "lookup-self",
        undefined,
        { method: "GET", path: "auth/token/lookup-self" },
        { retry: true },
      );
      const data = record(record(body).data);
      const ttl = typeof data.ttl === "number" ? data.ttl : 0;
      if (data.renewable === true && ttl > 0) this.scheduleRenewal(ttl);
      else this.logger.info({ ttl }, "Vault token is not renewable or never expires; no renewal");
    } catch (error) {
      this.logger.warn(
        { err: describeError(error), retryInMs: RENEWAL_RETRY_MS },
        "could not look up the Vault token for renewal; trying again later",
      );
      this.setRenewalTimer(RENEWAL_RETRY_MS, () => void this.startTokenRenewal());
    }
  }

  /** Stops the background token renewal. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.renewalTimer) clearTimeout(this.renewalTimer);
    this.renewalTimer = undefined;
  }

  private scheduleRenewal(ttlSeconds: number): void {
    this.setRenewalTimer(Math.max(1, ttlSeconds / 2) * 1000, () => void this.renew());
  }

  private async renew(): Promise<void> {
    try {
      const body = await this.execute(
        "renew-self",
        undefined,
        { method: "POST", path: "auth/token/renew-self", body: {} },
        { retry: true },
      );
      const ttl = record(record(body).auth).lease_duration;
      if (typeof ttl === "number" && ttl > 0) this.scheduleRenewal(ttl);
      this.logger.info({ ttl }, "renewed the Vault token");
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, "could not renew the Vault token");
      if (this.options.auth.kind === "appRole") {
        // The next call logs in again, and that login schedules the next renewal.
        this.token = undefined;
      } else {
        this.setRenewalTimer(RENEWAL_RETRY_MS, () => void this.renew());
      }
    }
  }

  private setRenewalTimer(delayMs: number, action: () => void): void {
    if (this.stopped) return;
    if (this.renewalTimer) clearTimeout(this.renewalTimer);
    this.renewalTimer = setTimeout(action, delayMs);
    this.renewalTimer.unref();
  }

  // --- Requests ------------------------------------------------------------------------

  private keyRequest(
    method: Method,
    name: string,
    body?: Record<string, unknown>,
    suffix = "",
  ): VaultRequest {
    return { method, path: `${this.mount}/keys/${name}${suffix}`, ...(body ? { body } : {}) };
  }

  private batchRequest(
    operation: "encrypt" | "decrypt" | "rewrap",
    name: string,
    items: Record<string, string>[],
  ): VaultRequest {
    return {
      method: "POST",
      path: `${this.mount}/${operation}/${name}`,
      body: { batch_input: items },
    };
  }

  /** Encrypt must not reach Vault for a missing key: Vault would create it. */
  private async assertKeyExists(name: string): Promise<void> {
    const until = this.knownKeys.get(name);
    if (until !== undefined && until > Date.now()) return;
    if (!(await this.readKey(name))) missing(name);
  }

  /**
   * One call to Vault: through the circuit breaker, authenticated, retried with backoff
   * when `retry` and Vault was unavailable. Throws only TransitErrors.
   */
  private async execute(
    operation: Operation,
    key: string | undefined,
    request: VaultRequest,
    options: { retry: boolean; items?: number },
  ): Promise<unknown> {
    const attempts = options.retry ? Math.max(1, this.retry.attempts) : 1;
    for (let attempt = 1; ; attempt++) {
      if (!this.breaker.tryAcquire()) {
        throw new TransitUnavailableError(
          `Vault is failing: not calling it for ${describe(operation, key)} for another ${Math.ceil(this.breaker.retryInMs / 1000)} s (circuit breaker open)`,
        );
      }
      try {
        const body = await this.sendAuthenticated(request);
        this.breaker.success();
        return body;
      } catch (raw) {
        const error = this.toTransitError(raw, operation, key, options.items);
        if (!(error instanceof TransitUnavailableError)) {
          this.breaker.success(); // Vault answered; the request was the problem.
          throw error;
        }
        const wasClosed = this.breaker.state === "closed";
        this.breaker.failure();
        if (wasClosed && this.breaker.state !== "closed") {
          this.logger.warn(
            { coolDownMs: this.breaker.retryInMs },
            "Vault keeps failing: circuit breaker open",
          );
        }
        if (attempt >= attempts) throw error;
        await delay(this.backoff(attempt));
      }
    }
  }

  /** Sends with the current token; after a 403, once more with a fresh one if there is one. */
  private async sendAuthenticated(request: VaultRequest): Promise<unknown> {
    const token = await this.currentToken();
    try {
      return await this.send(request, token);
    } catch (error) {
      if (statusOf(error) !== 403 || !(await this.refreshToken(token))) throw error;
      return await this.send(request, await this.currentToken());
    }
  }

  private async send(request: VaultRequest, token: string | undefined): Promise<unknown> {
    const options: VaultRequestOptions = {
      headers: token ? { "X-Vault-Token": token } : {},
      timeout: this.timeoutMs,
    };
    const call =
      request.method === "GET"
        ? this.http.read(request.path, options)
        : request.method === "DELETE"
          ? this.http.delete(request.path, options)
          : this.http.write(request.path, request.body ?? {}, options);
    return withDeadline(call, this.timeoutMs + 250);
  }

  // --- Tokens --------------------------------------------------------------------------

  private async currentToken(): Promise<string> {
    const auth = this.options.auth;
    switch (auth.kind) {
      case "token":
        return auth.token;
      case "tokenFile":
        return this.readTokenFile(auth.path, false);
      case "appRole":
        return this.token ?? (await this.logIn());
    }
  }

  /** After a 403 with `rejected`: true when another token is now available to try. */
  private async refreshToken(rejected: string): Promise<boolean> {
    const auth = this.options.auth;
    switch (auth.kind) {
      case "token":
        return false;
      case "tokenFile":
        return (await this.readTokenFile(auth.path, true)) !== rejected;
      case "appRole":
        if (this.token === rejected) this.token = undefined;
        await this.currentToken();
        return true;
    }
  }

  private async readTokenFile(path: string, force: boolean): Promise<string> {
    const now = Date.now();
    if (
      !force &&
      this.token &&
      this.tokenFile &&
      now - this.tokenFile.checkedAt < this.tokenFileCheckMs
    ) {
      return this.token;
    }
    let fingerprint: string;
    try {
      const info = await stat(path);
      fingerprint = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (force || !this.token || fingerprint !== this.tokenFile?.fingerprint) {
        const token = (await readFile(path, "utf8")).trim();
        if (!token) throw Object.assign(new Error("empty"), { code: "EMPTY" });
        if (this.token && token !== this.token)
          this.logger.info({ path }, "Vault token file changed; using the new token");
        this.token = token;
      }
    } catch (error) {
      throw new TransitPermissionError(
        `cannot read the Vault token file ${path} (${safeCode(error) ?? "unreadable"})`,
      );
    }
    this.tokenFile = { checkedAt: now, fingerprint };
    return this.token;
  }

  private logIn(): Promise<string> {
    if (this.options.auth.kind !== "appRole") throw new Error("only AppRole logs in");
    const { roleId, secretId } = this.options.auth;
    // Concurrent calls share one login.
    this.login ??= (async () => {
      try {
        const body = await this.send(
          {
            method: "POST",
            path: "auth/approle/login",
            body: { role_id: roleId, secret_id: secretId },
          },
          undefined,
        );
        const auth = record(record(body).auth);
        if (typeof auth.client_token !== "string" || !auth.client_token) {
          throw new TransitUnavailableError("Vault's AppRole login answered without a token");
        }
        this.token = auth.client_token;
        const ttl = auth.lease_duration;
        if (auth.renewable === true && typeof ttl === "number" && ttl > 0)
          this.scheduleRenewal(ttl);
        this.logger.info({ ttl }, "logged in to Vault with AppRole");
        return auth.client_token;
      } catch (error) {
        const status = statusOf(error);
        if (status === 400 || status === 401 || status === 403) {
          throw new TransitPermissionError(
            `Vault refused the AppRole login (${status}${vaultErrorSummary(error)})`,
          );
        }
        throw error;
      } finally {
        this.login = undefined;
      }
    })();
    return this.login;
  }

  // --- Errors --------------------------------------------------------------------------

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  /**
   * A new TransitError from what Vault said (status, `errors`, `batch_results[].error`),
   * scrubbed of anything that looks like a ciphertext or base64 data. The original error is
   * dropped, not attached as a cause: node-vault's and axios' errors carry the request.
   */
  private toTransitError(
    error: unknown,
    operation: Operation,
    key: string | undefined,
    items: number | undefined,
  ): TransitError {
    if (error instanceof TransitError) return error;
    const what = describe(operation, key);
    if (error instanceof DeadlineExceeded) {
      return new TransitUnavailableError(
        `Vault did not answer ${what} within ${this.timeoutMs} ms`,
      );
    }
    const status = statusOf(error);
    if (status === undefined) {
      const code = safeCode(error);
      return new TransitUnavailableError(
        code === "ECONNABORTED" || code === "ETIMEDOUT"
          ? `Vault did not answer ${what} within ${this.timeoutMs} ms`
          : `Vault is unreachable for ${what} (${code ?? "network error"})`,
      );
    }
    const summary = vaultErrorSummary(error);
    const body = responseBody(error);
    const batch = record(record(body).data).batch_results ?? record(body).batch_results;
    if (status === 403) return new TransitPermissionError(`Vault denied ${what} (403${summary})`);
    if (status === 404) {
      // A missing route (no transit engine at this mount, a wrong namespace) is also a 404;
      // taking it for a missing key would make deleteKey "succeed" and readKey answer null.
      if (/no handler for route|route entry not found|unsupported path/i.test(summary)) {
        return new TransitInvalidRequestError(
          `Vault has no route for ${what}: is the transit engine mounted at '${this.mount}'?`,
        );
      }
      return new TransitKeyNotFoundError(`transit key '${key ?? "?"}' does not exist (Vault 404)`);
    }
    if (
      status >= 500 &&
      (operation === "decrypt" || operation === "rewrap") &&
      /message authentication failed/i.test(summary)
    ) {
      return new UnattributedBatchError(
        `Vault could not authenticate an item of ${what} (${status}${summary})`,
        Array.from({ length: items ?? 0 }, (_, index) => index),
      );
    }
    if (status === 429 || status === 412 || status >= 500) {
      return new TransitUnavailableError(`Vault is unavailable for ${what} (${status}${summary})`);
    }
    if (Array.isArray(batch)) {
      const failed: number[] = [];
      const reasons = new Set<string>();
      batch.forEach((item, index) => {
        const reason = record(item).error;
        if (typeof reason === "string" && reason !== "") {
          failed.push(index);
          reasons.add(scrub(reason));
        }
      });
      if (failed.length > 0) {
        return new TransitBatchError(
          `Vault rejected ${failed.length} of ${items ?? batch.length} items of ${what} (${status}: ${[...reasons].slice(0, 3).join("; ")})`,
          failed,
        );
      }
    }
    if (/not found|no existing key|does not exist|could not be found/i.test(summary)) {
      return new TransitKeyNotFoundError(
        `transit key '${key ?? "?"}' does not exist (Vault ${status}${summary})`,
      );
    }
    return new TransitInvalidRequestError(`Vault refused ${what} (${status}${summary})`);
  }
}

/** node-vault's client as VaultTransit uses it (its published types are `any`-based). */
type NodeVaultClient = VaultHttp & { token: string; namespace: string; pathPrefix: string };
type NodeVaultFactory = (options: Record<string, unknown>) => NodeVaultClient;

function nodeVaultHttp(address: string, namespace: string | undefined): VaultHttp {
  const client = (nodeVault as unknown as NodeVaultFactory)({
    apiVersion: "v1",
    endpoint: address,
    // node-vault would otherwise log request bodies (plaintexts) when DEBUG=node-vault.
    debug: () => undefined,
    // Only config.ts reads the environment: no VAULT_SKIP_VERIFY here.
    rpDefaults: { strictSSL: true },
  });
  // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX from the
  // environment; VaultTransit sends its own token header on every request instead.
  client.token = "";
  client.namespace = namespace ?? "";
  client.pathPrefix = "";
  return {
    read: (path, options) => client.read(path, options),
    write: (path, data, options) => client.write(path, data, options),
    delete: (path, options) => client.delete(path, options),
  };
}

class DeadlineExceeded extends Error {}

/** A batch Vault refused as a whole without naming the item: openBatch bisects it. */
class UnattributedBatchError extends TransitBatchError {}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded()), ms);
  });
  promise.catch(() => undefined); // a late failure after the deadline is no news
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function missing(name: string): never {
  throw new TransitKeyNotFoundError(`transit key '${name}' does not exist`);
}

function unexpectedResponse(operation: Operation, key: string): TransitUnavailableError {
  return new TransitUnavailableError(
    `Vault answered ${describe(operation, key)} with an unexpected body`,
  );
}

function describe(operation: Operation, key: string | undefined): string {
  return key === undefined ? operation : `${operation} with transit key '${key}'`;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function keyInfo(name: string, body: unknown): TransitKeyInfo | null {
  const data = record(record(body).data);
  const latest = data.latest_version;
  const min = data.min_decryption_version;
  if (typeof latest !== "number" || typeof min !== "number") return null;
  return { name, latestVersion: latest, minDecryptionVersion: Math.max(1, min) };
}

function batchResults(
  body: unknown,
  operation: Operation,
  name: string,
  expected: number,
): Record<string, unknown>[] {
  const results = record(record(body).data).batch_results;
  if (!Array.isArray(results) || results.length !== expected) {
    throw unexpectedResponse(operation, name);
  }
  const items = results.map(record);
  // Vault answers 400 when an item fails; a 200 with item errors is treated the same way.
  const failed = items.flatMap((item, index) =>
    typeof item.error === "string" && item.error ? [index] : [],
  );
  if (failed.length > 0) {
    throw new TransitBatchError(
      `Vault rejected ${failed.length} of ${expected} items of ${describe(operation, name)}`,
      failed,
    );
  }
  return items;
}

function statusOf(error: unknown): number | undefined {
  const status = record(record(error).response).statusCode;
  return typeof status === "number" ? status : undefined;
}

function responseBody(error: unknown): unknown {
  return record(record(error).response).body;
}

/** An errno-style code ("ECONNREFUSED"), never a free-form message. */
function safeCode(error: unknown): string | undefined {
  const code = record(error).code;
  return typeof code === "string" && /^[A-Z][A-Z0-9_]{1,39}$/.test(code) ? code : undefined;
}

/** ": <Vault's errors>", scrubbed, or "" when Vault said nothing. */
function vaultErrorSummary(error: unknown): string {
  const errors = record(responseBody(error)).errors;
  if (!Array.isArray(errors)) return "";
  const texts = errors
    .filter((e): e is string => typeof e === "string")
    .map(scrub)
    .filter(Boolean);
  return texts.length > 0 ? `: ${texts.slice(0, 3).join("; ")}` : "";
}

/**
 * Vault's messages name keys and rules, not data; but a message that quotes its input must
 * not smuggle a ciphertext or base64 plaintext into our logs. Long base64-alphabet runs with
 * a digit or one of + / = (which words do not have) are cut out, and the length is capped.
 */
function scrub(text: string): string {
  return text
    .replace(/vault:v\d*:?[A-Za-z0-9+/=]*/g, "[ciphertext]")
    .replace(/[A-Za-z0-9+/=_-]{12,}/g, (run) => (/[0-9+/=]/.test(run) ? "[redacted]" : run))
    .replace(/\s+/g, " ")
    .replace(/^[\s*\d]*errors? occurred:\s*\*?\s*/i, "")
    .trim()
    .slice(0, 200);
}

function describeError(error: unknown): string {
  return error instanceof TransitError ? error.message : "unexpected error";
}
