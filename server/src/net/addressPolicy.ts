import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** A CIDR range, as `ipaddr.parseCIDR` returns it. */
export type Cidr = readonly [Address, number];

/**
 * Which addresses Coffer may call on a tenant's behalf beyond the public internet:
 * `allowCidrs` from EGRESS_ALLOW_CIDRS (private deployments), `allowLoopback` from the
 * development flags OAUTH_ALLOW_LOOPBACK_HTTP / WEBHOOKS_ALLOW_LOOPBACK_HTTP.
 */
export type AddressPolicy = {
  readonly allowCidrs: readonly Cidr[];
  readonly allowLoopback: boolean;
};

/** `why` completes "10.0.0.5 is …": "a private address (RFC 1918)". */
export type AddressVerdict = { allowed: true } | { allowed: false; why: string };

/**
 * Cloud metadata and host-agent endpoints. They are refused whatever EGRESS_ALLOW_CIDRS
 * says: allowing 169.254.0.0/16 or 100.64.0.0/10 for a private network must not hand
 * tenants the instance's credentials.
 */
const METADATA = new Map<string, string>([
  ["169.254.169.254", "AWS, GCP, Azure, OCI, DigitalOcean"],
  ["169.254.170.2", "AWS ECS task credentials"],
  ["169.254.170.23", "AWS EKS pod identity"],
  ["fd00:ec2::254", "AWS IPv6"],
  ["fd00:ec2::23", "AWS EKS pod identity, IPv6"],
  ["100.100.100.200", "Alibaba Cloud"],
  ["192.0.0.192", "Oracle Cloud"],
  ["168.63.129.16", "Azure host agent"],
]);

const IPV4_WHY: Record<string, string> = {
  unspecified: "an unspecified address (0.0.0.0/8)",
  broadcast: "the broadcast address",
  multicast: "a multicast address (224.0.0.0/4)",
  linkLocal: "a link-local address (169.254.0.0/16)",
  loopback: "a loopback address (127.0.0.0/8)",
  carrierGradeNat: "a carrier-grade NAT address (100.64.0.0/10)",
  private: "a private address (RFC 1918)",
  reserved: "a reserved or documentation address",
  as112: "an AS112 address",
  amt: "an AMT relay address",
};
const IPV6_WHY: Record<string, string> = {
  unspecified: "the unspecified address (::)",
  linkLocal: "a link-local address (fe80::/10)",
  multicast: "a multicast address (ff00::/8)",
  loopback: "a loopback address (::1)",
  uniqueLocal: "a unique-local address (fc00::/7)",
  deprecatedSiteLocal: "a site-local address (fec0::/10)",
  discard: "a discard-only address (100::/64)",
  rfc6052: "a local-use NAT64 address (64:ff9b:1::/48)",
  teredo: "a Teredo tunnel address (2001::/32)",
  reserved: "a reserved or documentation address",
};

/** Parses an address as DNS or a WHATWG URL hostname gives it (brackets allowed); else undefined. */
export function parseAddress(text: string): Address | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  // `isValid` also takes IPv4 shorthands (127.1, 0x7f.1); URL hosts are already normalised,
  // and anything else is normalised here the same way before it is classified.
  return ipaddr.parse(bare);
}

/**
 * The IPv4 address an IPv6 form carries, when it is one of the forms that reach an IPv4
 * host: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible
 * (::a.b.c.d, deprecated but still routed by some stacks), the NAT64 well-known prefix
 * (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
 */
function embeddedIPv4(address: ipaddr.IPv6): { v4: ipaddr.IPv4; form: string } | undefined {
  const p = address.parts;
  const tail = () => new ipaddr.IPv4([p[6]! >> 8, p[6]! & 0xff, p[7]! >> 8, p[7]! & 0xff]);
  const range: string = address.range();
  if (range === "ipv4Mapped") return { v4: address.toIPv4Address(), form: "IPv4-mapped" };
  if (range === "rfc6145") return { v4: tail(), form: "IPv4-translated" };
  if (range === "6to4")
    return {
      v4: new ipaddr.IPv4([p[1]! >> 8, p[1]! & 0xff, p[2]! >> 8, p[2]! & 0xff]),
      form: "6to4",
    };
  if (range === "rfc6052" && p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => !x))
    return { v4: tail(), form: "NAT64" };
  // ::/96 except :: and ::1, which are IPv6's own unspecified and loopback addresses.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1))
    return { v4: tail(), form: "IPv4-compatible" };
  return undefined;
}

const inAny = (address: Address, cidrs: readonly Cidr[]) =>
  cidrs.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));

const GLOBAL_UNICAST: Cidr = ipaddr.parseCIDR("2000::/3");

/**
 * Whether Coffer may connect to `address` for a tenant. Deny by default: only public
 * unicast addresses pass, plus loopback when `allowLoopback` is set and any range in
 * `allowCidrs`; metadata endpoints never. IPv6 forms that carry an IPv4 address are judged
 * by that address, so ::ffff:127.0.0.1 and 64:ff9b::a00:5 fail like 127.0.0.1 and 10.0.0.5.
 */
export function classifyAddress(text: string, policy: AddressPolicy): AddressVerdict {
  const address = parseAddress(text);
  if (!address) return { allowed: false, why: "not an IP address" };
  const embedded = address.kind() === "ipv6" ? embeddedIPv4(address as ipaddr.IPv6) : undefined;
  const effective: Address = embedded?.v4 ?? address;
  const of = (why: string) =>
    embedded ? `${why}, in its ${embedded.form} form ${address.toString()}` : why;

  const metadata = METADATA.get(effective.toString()) ?? METADATA.get(address.toString());
  if (metadata) return { allowed: false, why: of(`a cloud metadata address (${metadata})`) };
  if (inAny(address, policy.allowCidrs) || inAny(effective, policy.allowCidrs))
    return { allowed: true };

  const range: string = effective.range();
  if (range === "loopback" && policy.allowLoopback) return { allowed: true };
  if (effective.kind() === "ipv4") {
    if (range === "unicast") return { allowed: true };
    return { allowed: false, why: of(IPV4_WHY[range] ?? `a special-purpose address (${range})`) };
  }
  if (range === "unicast")
    return effective.match(GLOBAL_UNICAST[0], GLOBAL_UNICAST[1])
      ? { allowed: true }
      : { allowed: false, why: "an unassigned address (outside 2000::/3)" };
  return { allowed: false, why: IPV6_WHY[range] ?? `a special-purpose address (${range})` };
}
