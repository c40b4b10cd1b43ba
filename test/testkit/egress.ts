import ipaddr from "ipaddr.js";
import { createEgress, type Egress, type Lookup } from "../../server/src/net/egress.ts";

export type TestEgressOptions = {
  /**
   * What names resolve to, in place of DNS: tests never look up a real name. A name that is
   * not listed fails like an unknown one (ENOTFOUND).
   */
  names?: Record<string, readonly string[]>;
  /** Loopback allowed, as with the *_ALLOW_LOOPBACK_HTTP flags (on by default, like the test app). */
  allowLoopback?: boolean;
  /** As EGRESS_ALLOW_CIDRS. */
  allowCidrs?: readonly string[];
  timeoutMs?: number;
  maxResponseBytes?: number;
  loopbackFlag?: string;
};

/** A lookup that answers only from `names`; every name asked for is recorded in `asked`. */
export function stubLookup(names: Record<string, readonly string[]> = {}) {
  const asked: string[] = [];
  const lookup: Lookup = async (hostname) => {
    asked.push(hostname);
    const addresses = names[hostname];
    if (!addresses)
      throw Object.assign(new Error(`${hostname}: tests resolve only stubbed names`), {
        code: "ENOTFOUND",
      });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { lookup, asked };
}

/** The real egress guard over a stubbed lookup. */
export function testEgress(options: TestEgressOptions = {}): Egress {
  return createEgress({
    policy: {
      allowCidrs: (options.allowCidrs ?? []).map((c) => ipaddr.parseCIDR(c)),
      allowLoopback: options.allowLoopback ?? true,
      loopbackFlag: options.loopbackFlag ?? "OAUTH_ALLOW_LOOPBACK_HTTP",
    },
    lookup: stubLookup(options.names).lookup,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
  });
}

/** The pair createApp takes, both over the same options. */
export function testEgressPair(options: TestEgressOptions = {}) {
  return {
    oauth: testEgress({ loopbackFlag: "OAUTH_ALLOW_LOOPBACK_HTTP", ...options }),
    webhooks: testEgress({ loopbackFlag: "WEBHOOKS_ALLOW_LOOPBACK_HTTP", ...options }),
  };
}
