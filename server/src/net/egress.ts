import type { LookupAddress, LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { EgressRefusedError } from "../errors/EgressRefusedError.ts";
import { classifyAddress, parseAddress } from "./addressPolicy.ts";
import type { DestinationPolicy } from "./destinationPolicy.ts";

/**
 * Resolves a name to every address it has. Injected so tests can make any name resolve
 * anywhere without DNS; main.ts passes `dns.promises.lookup(name, { all: true })`.
 */
export type Lookup = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

/** The request options Coffer's callers use (oauth4webapi's customFetch, the webhook dispatcher). */
export type EgressInit = {
  method?: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams | null;
  signal?: AbortSignal | null;
  /** Accepted for compatibility and ignored: the guard never follows a redirect. */
  redirect?: string;
};

export type Egress = {
  readonly policy: DestinationPolicy;
  /** fetch for a tenant-chosen URL; the answer is buffered (at most the size cap). */
  fetch(url: string, init?: EgressInit): Promise<Response>;
  close(): Promise<void>;
};

/**
 * The one way Coffer sends HTTP to an address a tenant chose. The guard resolves the name
 * itself (`lookup`), refuses the request when any address is outside the policy (see
 * addressPolicy.ts), and has undici connect to the address it checked: the socket never
 * asks DNS again, so a name that rebinds between check and connect changes nothing. IP
 * literals are checked before anything is sent. Redirects are never followed (a 3xx fails
 * with reason `redirect`), the whole exchange must end within `timeoutMs`, and the answer
 * may hold at most `maxResponseBytes` (after decompression).
 */
export function createEgress(options: {
  policy: DestinationPolicy;
  lookup: Lookup;
  timeoutMs: number;
  maxResponseBytes: number;
}): Egress {
  const { policy, timeoutMs, maxResponseBytes } = options;

  const checkedLookup: LookupFunction = (hostname, lookupOptions: LookupOptions, callback) => {
    const name = hostname.toLowerCase().replace(/\.$/, "");
    options
      .lookup(name)
      .then((answers) => {
        for (const { address } of answers) {
          const verdict = classifyAddress(address, policy);
          if (!verdict.allowed)
            throw new EgressRefusedError(
              "address",
              `${name} resolves to ${address}, ${verdict.why}`,
            );
        }
        const family = lookupOptions.family === 4 || lookupOptions.family === 6;
        const usable = family ? answers.filter((a) => a.family === lookupOptions.family) : answers;
        const first = usable[0];
        if (!first) throw Object.assign(new Error(`${name} has no address`), { code: "ENOTFOUND" });
        if (lookupOptions.all)
          callback(
            null,
            usable.map((a): LookupAddress => ({ address: a.address, family: a.family })),
          );
        else callback(null, first.address, first.family);
      })
      .catch((error: unknown) => callback(error as NodeJS.ErrnoException, "", 0));
  };

  const agent = new Agent({
    connect: { lookup: checkedLookup, timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  return {
    policy,
    async fetch(target, init = {}) {
      const url = new URL(target);
      if (url.protocol !== "https:" && url.protocol !== "http:")
        throw new EgressRefusedError("address", `${url.protocol} is not http or https`);
      const host = url.hostname.toLowerCase();
      // Literals never reach the lookup hook (the socket connects to them as they are).
      if (parseAddress(host)) {
        const verdict = classifyAddress(host, policy);
        if (!verdict.allowed) throw new EgressRefusedError("address", `${host} is ${verdict.why}`);
      }
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([deadline, init.signal]) : deadline;
      // A caller's own abort (a lost webhook lease, its shorter timeout) keeps its error.
      const translate = (error: unknown): unknown => {
        if (init.signal?.aborted) return error;
        if (deadline.aborted)
          return new EgressRefusedError(
            "timeout",
            `${host} did not answer completely within ${timeoutMs} ms`,
          );
        return refusalIn(error) ?? error;
      };
      try {
        const response = await undiciFetch(url, {
          method: init.method ?? "GET",
          ...(init.headers ? { headers: init.headers } : {}),
          ...(init.body != null ? { body: init.body } : {}),
          signal,
          redirect: "manual",
          dispatcher: agent,
        });
        if (response.status >= 300 && response.status < 400) {
          await response.body?.cancel();
          throw new EgressRefusedError(
            "redirect",
            `${host} answered with a redirect (HTTP ${response.status}), and Coffer does not follow redirects`,
          );
        }
        const declared = Number(response.headers.get("content-length") ?? NaN);
        if (declared > maxResponseBytes) {
          await response.body?.cancel();
          throw tooLarge(host, maxResponseBytes);
        }
        const body = await readCapped(response.body, maxResponseBytes, host);
        const headers = new Headers();
        for (const [key, value] of response.headers)
          if (key !== "content-length" && key !== "content-encoding") headers.append(key, value);
        // A Response of the global class (oauth4webapi checks for it), with the buffered body.
        return new Response(nullBody(response.status) ? null : body, {
          status: response.status,
          statusText: response.statusText,
          headers,
        });
      } catch (error) {
        throw translate(error);
      }
    },
    close: () => agent.close(),
  };
}

const nullBody = (status: number) => status === 204 || status === 205 || status === 304;

const tooLarge = (host: string, max: number) =>
  new EgressRefusedError("too_large", `${host} answered with more than ${max} bytes`);

async function readCapped(
  body: AsyncIterable<Uint8Array> | null,
  max: number,
  host: string,
): Promise<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early (the throw) cancels the stream, which closes the connection.
  for await (const chunk of body ?? []) {
    size += chunk.byteLength;
    if (size > max) throw tooLarge(host, max);
    chunks.push(chunk);
  }
  const out = new Uint8Array(new ArrayBuffer(size));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}

/** The guard's refusal inside undici's "fetch failed" (its `cause` chain). */
function refusalIn(error: unknown): EgressRefusedError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof EgressRefusedError) return e;
  return undefined;
}
