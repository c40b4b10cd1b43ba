import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/** The proxies (TRUSTED_PROXIES) whose X-Forwarded-For entries Coffer believes. */
export type TrustedProxies = { includes(address: string): boolean };

/** One TRUSTED_PROXIES entry: an IPv4/IPv6 address or a CIDR range; undefined if neither. */
export function parseProxyEntry(
  entry: string,
): { address: string; prefix: number; type: "ipv4" | "ipv6" } | undefined {
  const [address = "", prefix, ...rest] = entry.trim().split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return undefined;
  return { address, prefix: bits, type: version === 4 ? "ipv4" : "ipv6" };
}

/** Entries must have passed parseProxyEntry (config.ts checks them at start). */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseProxyEntry(entry);
    if (!parsed) throw new Error(`not an address or CIDR range: ${entry}`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.type);
  }
  return {
    includes(address) {
      const plain = unmapped(address);
      const version = isIP(plain);
      return version !== 0 && list.check(plain, version === 4 ? "ipv4" : "ipv6");
    },
  };
}

/**
 * The address the request came from, as rate limits and the audit log should see it: the
 * TCP peer, unless that peer is a trusted proxy. Then X-Forwarded-For is read from the
 * right (each proxy appends the peer it saw) and the first hop that is not a trusted proxy
 * is the client; everything left of it was written by that client and is not evidence.
 * Without trusted proxies the header is ignored: anyone can send it.
 */
export function clientAddress(
  req: Pick<IncomingMessage, "headers" | "socket">,
  trusted: TrustedProxies | undefined,
): string | undefined {
  const peer = req.socket.remoteAddress && unmapped(req.socket.remoteAddress);
  if (!peer || !trusted?.includes(peer)) return peer;
  const header = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  let nearest = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = unmapped(hops[i]!);
    // Not an address: no proxy we trust wrote it, so the last trusted hop is all we know.
    if (isIP(hop) === 0) return nearest;
    if (!trusted.includes(hop)) return hop;
    nearest = hop;
  }
  return nearest;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
function unmapped(address: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match ? match[1]! : address;
}
