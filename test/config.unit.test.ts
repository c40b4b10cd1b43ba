import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/src/config.ts";

describe("loadConfig", () => {
  it("defaults to an embedded PostgreSQL in ./.coffer", () => {
    const config = loadConfig({});
    expect(config.database).toEqual({
      kind: "embedded",
      port: 54329,
      dir: path.resolve(".coffer/postgres"),
    });
    expect(config.port).toBe(4000);
    expect(config.session.secureCookie).toBe(false);
  });

  it("uses DATABASE_URL, migrating with DATABASE_ADMIN_URL when given", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://app:x@db:5432/coffer",
      DATABASE_ADMIN_URL: "postgres://owner:y@db:5432/coffer",
    });
    expect(config.database).toEqual({
      kind: "external",
      url: "postgresql://app:x@db:5432/coffer",
      adminUrl: "postgres://owner:y@db:5432/coffer",
    });
  });

  it("runs everything in one process unless COFFER_ROLE splits API and worker on a shared database", () => {
    expect(loadConfig({}).role).toBe("all");
    expect(loadConfig({}).webhooks).toEqual({ leaseMs: 30_000 });
    const url = "postgresql://app:x@db:5432/coffer";
    expect(loadConfig({ COFFER_ROLE: "api", DATABASE_URL: url }).role).toBe("api");
    expect(
      loadConfig({ COFFER_ROLE: "worker", DATABASE_URL: url, WEBHOOK_LEASE_MS: "2000" }),
    ).toMatchObject({ role: "worker", webhooks: { leaseMs: 2000 } });
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ COFFER_ROLE: "worker" })).toEqual([
      expect.stringMatching(/^COFFER_ROLE: worker runs beside other replicas.*DATABASE_URL/),
    ]);
    expect(problems({ COFFER_ROLE: "both", DATABASE_URL: url })).toEqual([
      expect.stringMatching(/^COFFER_ROLE: /),
    ]);
  });

  it("reports every problem at once", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "seventy",
        DATABASE_URL: "mysql://x",
        LOG_LEVEL: "loud",
        COOKIE_SECURE: "maybe",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const key of ["PORT", "DATABASE_URL", "LOG_LEVEL", "COOKIE_SECURE"])
      expect(problems).toContain(key);
  });

  it("takes EGRESS_ALLOW_CIDRS and the egress caps, naming a bad range with an example", () => {
    const defaults = loadConfig({});
    expect(defaults.egress).toEqual({
      allowCidrs: [],
      timeoutMs: 10_000,
      maxResponseBytes: 1024 * 1024,
    });
    expect(defaults.oauthAllowLoopbackHttp).toBe(false);
    expect(defaults.webhooksAllowLoopbackHttp).toBe(false);
    const custom = loadConfig({
      EGRESS_ALLOW_CIDRS: " 10.20.0.0/16, fd12:3456::/48 ,",
      EGRESS_TIMEOUT_MS: "2500",
      EGRESS_MAX_RESPONSE_BYTES: "65536",
    });
    expect(
      custom.egress.allowCidrs.map(([address, bits]) => `${address.toString()}/${bits}`),
    ).toEqual(["10.20.0.0/16", "fd12:3456::/48"]);
    expect(custom.egress).toMatchObject({ timeoutMs: 2500, maxResponseBytes: 65536 });
    let error: unknown;
    try {
      loadConfig({
        EGRESS_ALLOW_CIDRS: "10.0.0.0/8,10.0.0.0/33,127.0.0.1,0x7f.0.0.0/8",
        EGRESS_TIMEOUT_MS: "0",
        PORT: "x",
      });
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems;
    for (const entry of ["10.0.0.0/33", "127.0.0.1", "0x7f.0.0.0/8"])
      expect(problems).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^EGRESS_ALLOW_CIDRS: "${entry.replace(/\./g, "\\.")}" is not a CIDR range.*such as 10\\.20\\.0\\.0/16`,
          ),
        ),
      );
    expect(problems.join("\n")).not.toContain('"10.0.0.0/8"');
    expect(problems).toContainEqual(expect.stringMatching(/^EGRESS_TIMEOUT_MS: /));
    expect(problems).toContainEqual(expect.stringMatching(/^PORT: /));
  });

  it("refuses half-given first-run credentials and short passwords", () => {
    expect(() => loadConfig({ COFFER_ADMIN_EMAIL: "a@b.test" })).toThrow(/set both or neither/);
    expect(() =>
      loadConfig({ COFFER_ADMIN_EMAIL: "a@b.test", COFFER_ADMIN_PASSWORD: "short" }),
    ).toThrow(/at least 12/);
  });

  it("takes an optional STS endpoint, reporting a bad one with the other problems", () => {
    expect(loadConfig({}).aws).toEqual({ stsEndpoint: undefined });
    expect(loadConfig({ AWS_STS_ENDPOINT: "https://sts.eu-west-1.amazonaws.com" }).aws).toEqual({
      stsEndpoint: "https://sts.eu-west-1.amazonaws.com",
    });
    const problems = configError({ PORT: "seventy", AWS_STS_ENDPOINT: "sts.local" }).problems;
    expect(problems).toEqual([
      expect.stringMatching(/^PORT:/),
      expect.stringMatching(/^AWS_STS_ENDPOINT:/),
    ]);
  });

  describe("transit", () => {
    const masterKey = Buffer.alloc(32, 7).toString("base64");

    it("uses the embedded transit engine when VAULT_ADDR is unset", () => {
      expect(loadConfig({}).transit).toEqual({ kind: "local", masterKey: undefined });
      expect(loadConfig({ COFFER_MASTER_KEY: masterKey }).transit).toEqual({
        kind: "local",
        masterKey: Buffer.alloc(32, 7),
      });
      // base64url without padding is the same key.
      expect(
        loadConfig({ COFFER_MASTER_KEY: Buffer.alloc(32, 7).toString("base64url") }).transit,
      ).toEqual({ kind: "local", masterKey: Buffer.alloc(32, 7) });
    });

    it("refuses a COFFER_MASTER_KEY that is not 32 bytes of base64, without echoing it", () => {
      for (const value of [
        Buffer.alloc(31, 1).toString("base64"),
        Buffer.alloc(33, 1).toString("base64"),
        "not base64 at all!",
        `${masterKey}x`,
      ]) {
        const error = configError({ COFFER_MASTER_KEY: value });
        expect(error.problems.join("\n")).toMatch(
          /COFFER_MASTER_KEY: must be the base64 encoding of exactly 32 bytes/,
        );
        expect(error.message).not.toContain(value);
      }
    });

    it("uses Vault when VAULT_ADDR is set, with defaults for the mount and the timeout", () => {
      expect(
        loadConfig({ VAULT_ADDR: "https://vault.internal:8200/", VAULT_TOKEN: "s.token" }).transit,
      ).toEqual({
        kind: "vault",
        address: "https://vault.internal:8200",
        auth: { kind: "token", token: "s.token" },
        mount: "transit",
        namespace: undefined,
        timeoutMs: 5000,
      });
      expect(
        loadConfig({
          VAULT_ADDR: "http://vault:8200",
          VAULT_TOKEN_FILE: "run/token",
          VAULT_TRANSIT_MOUNT: "teams/coffer-transit",
          VAULT_NAMESPACE: "platform",
          VAULT_TIMEOUT_MS: "1500",
        }).transit,
      ).toEqual({
        kind: "vault",
        address: "http://vault:8200",
        auth: { kind: "tokenFile", path: path.resolve("run/token") },
        mount: "teams/coffer-transit",
        namespace: "platform",
        timeoutMs: 1500,
      });
      expect(
        loadConfig({ VAULT_ADDR: "http://vault:8200", VAULT_ROLE_ID: "r", VAULT_SECRET_ID: "s" })
          .transit,
      ).toMatchObject({ kind: "vault", auth: { kind: "appRole", roleId: "r", secretId: "s" } });
    });

    it("wants exactly one way to authenticate to Vault", () => {
      const vault = { VAULT_ADDR: "http://vault:8200" };
      expect(configError(vault).problems.join("\n")).toMatch(/exactly one way.*none is set/);
      expect(
        configError({ ...vault, VAULT_TOKEN: "t", VAULT_TOKEN_FILE: "/f" }).problems.join("\n"),
      ).toMatch(/exactly one way.*set: VAULT_TOKEN, VAULT_TOKEN_FILE/);
      expect(
        configError({ ...vault, VAULT_TOKEN: "t", VAULT_ROLE_ID: "r", VAULT_SECRET_ID: "s" })
          .problems,
      ).toHaveLength(1);
      expect(configError({ ...vault, VAULT_ROLE_ID: "r" }).problems.join("\n")).toMatch(
        /VAULT_ROLE_ID and VAULT_SECRET_ID: set both or neither/,
      );
    });

    it("refuses Vault settings without VAULT_ADDR, and the master key with it", () => {
      const problems = configError({ VAULT_TOKEN: "t", VAULT_TRANSIT_MOUNT: "transit" }).problems;
      expect(problems).toEqual([
        expect.stringMatching(/^VAULT_TOKEN: only used with VAULT_ADDR/),
        expect.stringMatching(/^VAULT_TRANSIT_MOUNT: only used with VAULT_ADDR/),
      ]);
      expect(
        configError({
          VAULT_ADDR: "http://vault:8200",
          VAULT_TOKEN: "t",
          COFFER_MASTER_KEY: masterKey,
        }).problems,
      ).toEqual([expect.stringMatching(/^COFFER_MASTER_KEY: only used by the embedded transit/)]);
    });

    it("reports transit problems together with every other problem", () => {
      const problems = configError({
        PORT: "seventy",
        VAULT_ADDR: "ftp://vault",
        VAULT_TIMEOUT_MS: "0",
        VAULT_TRANSIT_MOUNT: "/transit/",
      }).problems.join("\n");
      for (const key of ["PORT", "VAULT_ADDR", "VAULT_TIMEOUT_MS", "VAULT_TRANSIT_MOUNT"])
        expect(problems).toContain(`${key}:`);
      expect(problems).toMatch(/exactly one way/);
    });
  });
});

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}
