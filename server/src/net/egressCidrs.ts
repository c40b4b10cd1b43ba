import ipaddr from "ipaddr.js";
import type { Cidr } from "./addressPolicy.ts";

export const EGRESS_CIDRS_EXAMPLE = "10.20.0.0/16,fd12:3456:789a::/48";

/**
 * EGRESS_ALLOW_CIDRS: comma-separated CIDR ranges (IPv4 in four-part decimal, or IPv6),
 * each with its prefix length. Returns the ranges, or one problem per entry that is not one.
 */
export function parseCidrList(value: string): { cidrs: Cidr[]; problems: string[] } {
  const cidrs: Cidr[] = [];
  const problems: string[] = [];
  for (const entry of value.split(",").map((e) => e.trim())) {
    if (!entry) continue;
    const valid =
      ipaddr.IPv4.isValidCIDRFourPartDecimal(entry) ||
      (entry.includes(":") && ipaddr.IPv6.isValidCIDR(entry));
    if (valid) cidrs.push(ipaddr.parseCIDR(entry));
    else
      problems.push(
        `"${entry}" is not a CIDR range; give comma-separated ranges with their prefix length, such as ${EGRESS_CIDRS_EXAMPLE}`,
      );
  }
  return { cidrs, problems };
}
