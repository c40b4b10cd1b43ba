import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "../../server/src/net/freePort.ts";

/**
 * A stand-in for Vault's HTTP API on 127.0.0.1, ONLY for failure modes a real Vault cannot
 * be made to show on demand: 403s, a sealed Vault, a batch with one bad item, slow answers,
 * failing N times and then recovering. Everything the transit contract promises is checked
 * against a real Vault by test/transit.contract.test.ts; nothing here is evidence that
 * VaultTransit works with Vault.
 *
 * Its "transit engine" is a toy that does no cryptography (a ciphertext is the plaintext's
 * base64 behind a version prefix): just enough answers for the calls around a failure.
 */
export type DoubleRequest = {
  method: string;
  /** Without the /v1/ prefix, e.g. "transit/decrypt/coffer-org-1". */
  path: string;
  body: any;
  headers: IncomingHttpHeaders;
};

export type DoubleReply =
  | { status: number; body?: unknown }
  /** Answers only after `ms` (a client with a shorter timeout gives up first). */
  | { delayMs: number; then?: DoubleReply };

/** A reply, or a function of the request that may leave it to the toy Vault (undefined). */
type Reply = DoubleReply | ((request: DoubleRequest) => DoubleReply | undefined);

type Rule = { match: RegExp; remaining: number; reply: Reply };

export const permissionDenied: DoubleReply = {
  status: 403,
  body: { errors: ["1 error occurred:\n\t* permission denied\n\n"] },
};
export const sealed: DoubleReply = { status: 503, body: { errors: ["Vault is sealed"] } };

/**
 * Vault's answer to a batch where item `index` failed: 400, every other item's result
 * (plaintexts included, as Vault does), and no `errors`.
 */
export function batchItemFailure(index: number, reason: string) {
  return (request: DoubleRequest): DoubleReply => {
    const items: { ciphertext?: string; plaintext?: string }[] = request.body?.batch_input ?? [];
    return {
      status: 400,
      body: {
        request_id: "double",
        data: {
          batch_results: items.map((item, i) =>
            i === index ? { error: reason } : toyTransit(request.path, item),
          ),
        },
      },
    };
  };
}

/**
 * Vault's rewrap (and older Vaults' decrypt) when an item fails authentication: 500 for the
 * whole call, naming no item. Items whose ciphertext contains `marker` fail.
 */
export function authenticationFailureFor(marker: string) {
  return (request: DoubleRequest): DoubleReply | undefined => {
    const items: { ciphertext?: string }[] = request.body?.batch_input ?? [];
    return items.some((item) => item.ciphertext?.includes(marker))
      ? {
          status: 500,
          body: { errors: ["1 error occurred:\n\t* cipher: message authentication failed\n\n"] },
        }
      : undefined;
  };
}

export type VaultDouble = Awaited<ReturnType<typeof startVaultDouble>>;

export async function startVaultDouble(
  options: { tokenTtlSeconds?: number; renewable?: boolean } = {},
) {
  const requests: DoubleRequest[] = [];
  const rules: Rule[] = [];
  const keys = new Map<string, { latest: number; min: number }>();
  const revoked = new Set<string>();
  let logins = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const request: DoubleRequest = {
        method: req.method ?? "GET",
        path: (req.url ?? "/").replace(/^\/v1\//, "").replace(/\?.*$/, ""),
        body: raw ? JSON.parse(raw) : undefined,
        headers: req.headers,
      };
      requests.push(request);
      void respond(res, replyTo(request));
    });
  });

  function replyTo(request: DoubleRequest): DoubleReply {
    const rule = rules.find((r) => r.remaining > 0 && r.match.test(request.path));
    if (rule) {
      rule.remaining -= 1;
      const reply = typeof rule.reply === "function" ? rule.reply(request) : rule.reply;
      if (reply) return reply;
    }
    const token = request.headers["x-vault-token"];
    if (request.path !== "auth/approle/login" && (!token || revoked.has(String(token)))) {
      return permissionDenied;
    }
    return normal(request);
  }

  /** The toy Vault: keys with versions, auth endpoints, and the toy transit engine. */
  function normal(request: DoubleRequest): DoubleReply {
    const ttl = options.tokenTtlSeconds ?? 0;
    if (request.path === "auth/approle/login") {
      logins += 1;
      return {
        status: 200,
        body: {
          auth: {
            client_token: `approle-token-${logins}`,
            lease_duration: ttl,
            renewable: options.renewable ?? false,
          },
        },
      };
    }
    if (request.path === "auth/token/lookup-self") {
      return {
        status: 200,
        body: { data: { ttl, period: ttl, renewable: options.renewable ?? false } },
      };
    }
    if (request.path === "auth/token/renew-self") {
      return { status: 200, body: { auth: { lease_duration: ttl, renewable: true } } };
    }
    const match = /^transit\/(keys|encrypt|decrypt|rewrap)\/([^/]+)(\/rotate|\/config)?$/.exec(
      request.path,
    );
    if (!match) return { status: 404, body: { errors: ["no handler for route"] } };
    const [, area, name, action] = match as unknown as [string, string, string, string?];
    const key = keys.get(name);
    if (area === "keys") {
      if (request.method === "POST" && !action) {
        if (!key) keys.set(name, { latest: 1, min: 1 });
        return { status: 204 };
      }
      if (!key) {
        return request.method === "GET"
          ? { status: 404, body: { errors: [] } }
          : { status: 400, body: { errors: [`no existing key named ${name} could be found`] } };
      }
      if (request.method === "GET") {
        return {
          status: 200,
          body: { data: { name, latest_version: key.latest, min_decryption_version: key.min } },
        };
      }
      if (request.method === "DELETE") {
        keys.delete(name);
        return { status: 204 };
      }
      if (action === "/rotate") key.latest += 1;
      if (action === "/config" && request.body?.min_decryption_version !== undefined) {
        key.min = request.body.min_decryption_version;
      }
      return { status: 204 };
    }
    if (!key) {
      return area === "encrypt"
        ? permissionDenied // Coffer's policy: encrypting would create the key
        : { status: 400, body: { errors: ["encryption key not found"] } };
    }
    const items: { ciphertext?: string; plaintext?: string }[] = request.body?.batch_input ?? [];
    return {
      status: 200,
      body: {
        data: { batch_results: items.map((item) => toyTransit(request.path, item, key.latest)) },
      },
    };
  }

  async function respond(res: ServerResponse, reply: DoubleReply): Promise<void> {
    if ("delayMs" in reply) {
      await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (res.destroyed) return;
      return respond(res, reply.then ?? { status: 204 });
    }
    if (res.destroyed) return;
    if (reply.body === undefined) {
      res.writeHead(reply.status).end();
      return;
    }
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.body));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** The requests whose path matches. */
    requestsTo: (match: RegExp) => requests.filter((r) => match.test(r.path)),
    get logins() {
      return logins;
    },
    /** The next `times` requests whose path matches get `reply`; then the toy Vault answers. */
    fail(times: number, reply: Reply, match = /.*/) {
      rules.push({ match, remaining: times, reply });
    },
    /** Every matching request gets `reply` until `heal()`. */
    always(reply: Reply, match = /.*/) {
      rules.push({ match, remaining: Number.POSITIVE_INFINITY, reply });
    },
    heal() {
      rules.length = 0;
    },
    /** The token is refused from now on (403), like an expired one. */
    revoke(token: string) {
      revoked.add(token);
    },
    createKey(name: string, latest = 1) {
      keys.set(name, { latest, min: 1 });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An address where nothing listens: connecting is refused. */
export async function refusedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

function toyTransit(
  path: string,
  item: { ciphertext?: string; plaintext?: string },
  latest = 1,
): Record<string, unknown> {
  if (path.startsWith("transit/encrypt/")) {
    return { ciphertext: `vault:v${latest}:${item.plaintext ?? ""}`, key_version: latest };
  }
  const body = (item.ciphertext ?? "").replace(/^vault:v\d+:/, "");
  if (path.startsWith("transit/decrypt/")) return { plaintext: body };
  return { ciphertext: `vault:v${latest}:${body}`, key_version: latest };
}
