import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { ensureAppLogin, withDatabase } from "../server/src/db/migrate.ts";
import { createTestDatabase } from "./testkit/database.ts";

describe("the app login", () => {
  it("is set up once when replicas start together, and each of them can then connect", async () => {
    const database = await createTestDatabase();
    const login = {
      user: `coffer_login_${randomBytes(4).toString("hex")}`,
      password: "app-login-password",
    };
    // Four replicas' startups at once (rounds, because one race is easy to win by luck).
    for (let round = 0; round < 3; round++) {
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => ensureAppLogin(database.adminUrl, login)),
      );
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    }
    const client = new pg.Client({
      connectionString: withDatabase(
        database.adminUrl,
        new URL(database.adminUrl).pathname.slice(1),
        login,
      ),
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ member: boolean }>(
        `SELECT pg_has_role(current_user, 'coffer_app', 'MEMBER') AS member`,
      );
      expect(rows).toEqual([{ member: true }]);
    } finally {
      await client.end();
    }
    await database.admin(`DROP OWNED BY ${login.user}`);
    await database.admin(`DROP ROLE ${login.user}`);
  });
});
