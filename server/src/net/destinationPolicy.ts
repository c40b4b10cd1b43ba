import { ValidationError } from "../errors/ValidationError.ts";
import { classifyAddress, parseAddress, type AddressPolicy } from "./addressPolicy.ts";

/** The address policy of one kind of destination, and the flag that allows loopback for it. */
export type DestinationPolicy = AddressPolicy & {
  /** OAUTH_ALLOW_LOOPBACK_HTTP or WEBHOOKS_ALLOW_LOOPBACK_HTTP: named in error messages. */
  readonly loopbackFlag: string;
};

/** Names of cloud metadata services: refused whatever the configuration says. */
const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.azure.internal",
  "metadata.tencentyun.com",
]);

/**
 * Suffixes that only resolve inside a private network (RFC 6762 .local, RFC 8375
 * .home.arpa, ICANN's .internal, and the common unofficial ones).
 */
const INTERNAL_SUFFIXES = [
  "internal",
  "local",
  "localdomain",
  "home.arpa",
  "lan",
  "intranet",
  "corp",
  "home",
];

const isLoopbackName = (host: string) => host === "localhost" || host.endsWith(".localhost");

function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/\.$/, "");
}

function isLoopbackHost(host: string): boolean {
  if (isLoopbackName(host)) return true;
  const loopbackOnly = { allowCidrs: [], allowLoopback: true };
  const strict = { allowCidrs: [], allowLoopback: false };
  return (
    parseAddress(host) !== undefined &&
    classifyAddress(host, loopbackOnly).allowed &&
    !classifyAddress(host, strict).allowed
  );
}

/** Plain-http loopback (development): oauth4webapi must then be told to allow http. */
export const isLoopbackHttp = (value: string) => {
  const url = new URL(value);
  return url.protocol === "http:" && isLoopbackHost(hostOf(url));
};

/**
 * Configuration-time check of an address a tenant gives Coffer to call (an OAuth endpoint, a
 * webhook receiver): https (http only on loopback, behind the development flag), no
 * credentials or fragment, and no destination that is plainly internal — an IP literal in a
 * refused range (every notation: WHATWG URL parsing has already turned 2130706433,
 * 0x7f000001, 0177.0.0.1 and 127.1 into 127.0.0.1), localhost, metadata names, single-label
 * and internal-suffix names. Names are checked again where it matters, when Coffer connects
 * (net/egress.ts): a public-looking name may still resolve to a private address.
 */
export function checkDestination(field: string, value: string, policy: DestinationPolicy): string {
  const refuse = (message: string): never => {
    throw ValidationError.fromIssues([{ path: field, message }]);
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse("must be an absolute URL");
  }
  const host = hostOf(url);
  const loopback = isLoopbackHost(host);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback && policy.allowLoopback))
    refuse(
      `must use https (http is accepted only on loopback, and only when ${policy.loopbackFlag} is set)`,
    );
  if (url.username || url.password || url.hash)
    refuse("must not contain credentials or a fragment");

  const onlyPublic = `Coffer calls only public addresses (an operator allows private ranges with EGRESS_ALLOW_CIDRS, loopback for development with ${policy.loopbackFlag})`;
  if (parseAddress(host)) {
    const verdict = classifyAddress(host, policy);
    if (!verdict.allowed) refuse(`points at ${host}, ${verdict.why}: ${onlyPublic}`);
  } else if (METADATA_NAMES.has(host)) {
    refuse(`points at ${host}, a cloud metadata service, which Coffer never calls`);
  } else if (isLoopbackName(host)) {
    if (!policy.allowLoopback && !classifyAddress("127.0.0.1", policy).allowed)
      refuse(`points at ${host}, a loopback name: ${onlyPublic}`);
  } else if (policy.allowCidrs.length === 0) {
    // With internal ranges allowed, internal names are the operator's to allow; where Coffer
    // connects, their addresses are still checked against EGRESS_ALLOW_CIDRS.
    const suffix = INTERNAL_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
    if (suffix)
      refuse(
        `points at ${host}, a name under .${suffix}, which resolves only inside a network: ${onlyPublic}`,
      );
    if (!host.includes("."))
      refuse(
        `points at ${host}, a single-label name, which resolves only inside Coffer's own network: ${onlyPublic}`,
      );
  }
  return url.toString();
}
