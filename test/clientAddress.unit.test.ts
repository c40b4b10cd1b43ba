import { describe, expect, it } from "vitest";
import { loadConfig } from "../server/src/config.ts";
import { clientAddress, trustedProxies } from "../server/src/http/clientAddress.ts";

const from = (peer: string, forwardedFor?: string | string[]) => ({
  socket: { remoteAddress: peer } as never,
  headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
});
const proxies = trustedProxies(["172.30.77.0/24", "::1", "10.1.2.3"]);

describe("the client address", () => {
  it("is the TCP peer when no proxy is trusted, whatever X-Forwarded-For claims", () => {
    expect(clientAddress(from("203.0.113.9", "198.51.100.1"), undefined)).toBe("203.0.113.9");
    expect(clientAddress(from("::ffff:203.0.113.9"), undefined)).toBe("203.0.113.9");
  });

  it("is the TCP peer when that peer is not a trusted proxy", () => {
    expect(clientAddress(from("203.0.113.9", "198.51.100.1"), proxies)).toBe("203.0.113.9");
  });

  it("behind trusted proxies is the nearest hop that is not one of them", () => {
    // Caddy on the edge network: the header holds the address it saw.
    expect(clientAddress(from("172.30.77.4", "198.51.100.7"), proxies)).toBe("198.51.100.7");
    expect(clientAddress(from("::ffff:172.30.77.4", "198.51.100.7"), proxies)).toBe("198.51.100.7");
    // A client that sends its own header cannot pick its address: only the proxy's entry counts.
    expect(clientAddress(from("172.30.77.4", "1.2.3.4, 198.51.100.7"), proxies)).toBe(
      "198.51.100.7",
    );
    // Two trusted proxies in a row, and the header repeated.
    expect(clientAddress(from("172.30.77.4", ["198.51.100.7", "10.1.2.3"]), proxies)).toBe(
      "198.51.100.7",
    );
    expect(clientAddress(from("::1", "2001:db8::5, 172.30.77.9"), proxies)).toBe("2001:db8::5");
  });

  it("falls back to the last trusted hop when the header is missing, all trusted or garbled", () => {
    expect(clientAddress(from("172.30.77.4"), proxies)).toBe("172.30.77.4");
    expect(clientAddress(from("172.30.77.4", "10.1.2.3"), proxies)).toBe("10.1.2.3");
    expect(clientAddress(from("172.30.77.4", "evil, 10.1.2.3"), proxies)).toBe("10.1.2.3");
  });

  it("TRUSTED_PROXIES takes addresses and CIDR ranges and refuses anything else", () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: " 172.30.77.0/24, ::1 ,," }).trustedProxies).toEqual([
      "172.30.77.0/24",
      "::1",
    ]);
    for (const bad of ["caddy", "10.0.0.0/33", "::1/129", "10.0.0.1/8/8", "10.0.0.0/-1"]) {
      expect(() => loadConfig({ TRUSTED_PROXIES: bad }), bad).toThrow(/TRUSTED_PROXIES: /);
    }
  });
});
