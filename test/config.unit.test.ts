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

  it("refuses half-given first-run credentials and short passwords", () => {
    expect(() => loadConfig({ COFFER_ADMIN_EMAIL: "a@b.test" })).toThrow(/set both or neither/);
    expect(() =>
      loadConfig({ COFFER_ADMIN_EMAIL: "a@b.test", COFFER_ADMIN_PASSWORD: "short" }),
    ).toThrow(/at least 12/);
  });
});
