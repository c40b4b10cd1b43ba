import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../server/src/errors/ValidationError.ts";
import { classifyAddress, type AddressPolicy } from "../server/src/net/addressPolicy.ts";
import { checkDestination, type DestinationPolicy } from "../server/src/net/destinationPolicy.ts";
import { LOOPBACK_NOTATIONS, REFUSED } from "./testkit/egressCases.ts";

const strict: AddressPolicy = { allowCidrs: [], allowLoopback: false };
const cidrs = (...ranges: string[]) => ranges.map((r) => ipaddr.parseCIDR(r));

const PUBLIC = [
  "93.184.215.14",
  "1.1.1.1",
  "2606:4700:4700::1111",
  "64:ff9b::5db8:d70e",
  "2002:5db8:d70e::1",
];

describe("address classification", () => {
  it.each(REFUSED)("refuses %s: %s", (address, why) => {
    const verdict = classifyAddress(address, strict);
    expect(verdict.allowed).toBe(false);
    expect(verdict.allowed ? "" : verdict.why).toMatch(why);
  });

  it.each(PUBLIC)("allows the public address %s", (address) => {
    expect(classifyAddress(address, strict)).toEqual({ allowed: true });
  });

  it("the loopback flag allows loopback only", () => {
    const loopback: AddressPolicy = { allowCidrs: [], allowLoopback: true };
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
      expect(classifyAddress(address, loopback), address).toEqual({ allowed: true });
    for (const address of ["10.0.0.5", "192.168.1.1", "169.254.1.1", "fd00::1", "0.0.0.0"])
      expect(classifyAddress(address, loopback).allowed, address).toBe(false);
  });

  it("EGRESS_ALLOW_CIDRS allows its ranges, in every form, and nothing else", () => {
    const policy: AddressPolicy = {
      allowCidrs: cidrs("10.20.0.0/16", "fd12:3456::/48"),
      allowLoopback: false,
    };
    for (const address of ["10.20.1.2", "::ffff:10.20.1.2", "64:ff9b::a14:102", "fd12:3456::9"])
      expect(classifyAddress(address, policy), address).toEqual({ allowed: true });
    for (const address of ["10.21.0.1", "127.0.0.1", "fd12:3457::1", "192.168.0.1"])
      expect(classifyAddress(address, policy).allowed, address).toBe(false);
  });

  it("metadata addresses stay refused whatever is allowed", () => {
    const everything: AddressPolicy = {
      allowCidrs: cidrs("0.0.0.0/0", "::/0"),
      allowLoopback: true,
    };
    for (const address of [
      "169.254.169.254",
      "::ffff:169.254.169.254",
      "64:ff9b::a9fe:a9fe",
      "fd00:ec2::254",
      "100.100.100.200",
      "168.63.129.16",
    ])
      expect(classifyAddress(address, everything).allowed, address).toBe(false);
    expect(classifyAddress("10.0.0.5", everything)).toEqual({ allowed: true });
  });
});

describe("configuration-time destination check", () => {
  const policy: DestinationPolicy = { ...strict, loopbackFlag: "WEBHOOKS_ALLOW_LOOPBACK_HTTP" };
  const issue = (value: string, p: DestinationPolicy = policy) => {
    try {
      checkDestination("url", value, p);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      const issues = (error as ValidationError).issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe("url");
      return issues[0]!.message;
    }
  };

  it.each(LOOPBACK_NOTATIONS)("normalises https://%s/ and refuses it as loopback", (host) => {
    expect(issue(`https://${host}/hook`)).toMatch(/points at .*loopback/);
  });

  it("refuses literals in every refused range, naming the address and the reason", () => {
    expect(issue("https://10.0.0.5/hook")).toBe(
      "points at 10.0.0.5, a private address (RFC 1918): Coffer calls only public addresses (an operator allows private ranges with EGRESS_ALLOW_CIDRS, loopback for development with WEBHOOKS_ALLOW_LOOPBACK_HTTP)",
    );
    expect(issue("https://0xa9.0xfe.0xa9.0xfe/latest")).toMatch(
      /169\.254\.169\.254, a cloud metadata address/,
    );
    expect(issue("https://[fd00:ec2::254]/")).toMatch(/cloud metadata/);
    expect(issue("https://[64:ff9b::a00:5]/")).toMatch(/private address.*NAT64/);
    expect(issue("https://1681915904/")).toMatch(/100\.64\.0\.0, a carrier-grade NAT address/);
    for (const [address] of REFUSED) {
      const host = address.includes(":") ? `[${address}]` : address;
      expect(issue(`https://${host}/`), address).toMatch(/^points at /);
    }
  });

  it("refuses plainly internal names", () => {
    expect(issue("https://localhost/")).toMatch(/localhost, a loopback name/);
    expect(issue("https://api.localhost./")).toMatch(/a loopback name/);
    expect(issue("https://metadata.google.internal/computeMetadata/v1/")).toMatch(
      /cloud metadata service/,
    );
    expect(issue("https://METADATA/")).toMatch(/cloud metadata service/);
    expect(issue("https://vault.internal/")).toMatch(/under \.internal/);
    expect(issue("https://printer.local/")).toMatch(/under \.local/);
    expect(issue("https://nas.home.arpa/")).toMatch(/under \.home\.arpa/);
    expect(issue("https://postgres:5432/")).toMatch(/single-label name/);
  });

  it("accepts public names and addresses, https only", () => {
    expect(issue("https://hooks.example.com/in?token=x")).toBeUndefined();
    expect(issue("https://93.184.215.14/")).toBeUndefined();
    expect(issue("https://[2606:4700:4700::1111]/")).toBeUndefined();
    expect(issue("http://hooks.example.com/")).toMatch(/must use https/);
    expect(issue("ftp://hooks.example.com/")).toMatch(/must use https/);
    expect(issue("https://user:pw@hooks.example.com/")).toMatch(/credentials/);
    expect(issue("not a url")).toBe("must be an absolute URL");
  });

  it("the loopback flag allows loopback (http too) and nothing else", () => {
    const dev = { ...policy, allowLoopback: true };
    for (const url of [
      "http://127.0.0.1:8080/",
      "http://localhost:8080/",
      "http://[::1]:8080/",
      "https://2130706433/",
    ])
      expect(issue(url, dev), url).toBeUndefined();
    expect(issue("https://10.0.0.5/", dev)).toMatch(/private/);
    expect(issue("http://10.0.0.5/", dev)).toMatch(/must use https/);
    expect(issue("https://169.254.169.254/", dev)).toMatch(/cloud metadata/);
  });

  it("with EGRESS_ALLOW_CIDRS, the operator's ranges and internal names are accepted", () => {
    const internal = { ...policy, allowCidrs: cidrs("10.0.0.0/8") };
    expect(issue("https://10.1.2.3/", internal)).toBeUndefined();
    expect(issue("https://siem.corp.internal/", internal)).toBeUndefined();
    expect(issue("https://192.168.0.1/", internal)).toMatch(/private/);
    expect(issue("https://metadata.google.internal/", internal)).toMatch(/cloud metadata/);
    expect(issue("https://localhost/", internal)).toMatch(/loopback name/);
  });
});
