import { execFile } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localId } from "../server/src/graphql/globalId.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

const root = path.resolve(import.meta.dirname, "..");

let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.createTenant();
  for (const name of ["staging", "prod"]) {
    await t.ok(
      "declareEnvironment",
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: tenant.workspaceId, name } },
      tenant.session,
    );
  }
});

afterAll(async () => {
  await t?.close();
});

/** Runs the CLI the way `npm run projections:check` does (tsx), with its exit code and output. */
function runCheck(env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(root, "scripts", "projections-check.ts")],
      { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run projections:check", () => {
  it("exits 0 when the projections match a replay, and 1 naming a tampered table", async () => {
    const env = { DATABASE_URL: t.database.appUrl, DATABASE_ADMIN_URL: t.database.adminUrl };
    const [{ n }] = (await t.database.admin<{ n: number }>(
      "SELECT count(*)::int AS n FROM events",
    )) as [{ n: number }];

    const ok = await runCheck(env);
    expect(ok).toMatchObject({ code: 0, stdout: `replayed ${n} events: projections match\n` });

    const workspaceId = localId(tenant.workspaceId, "Workspace");
    const [row] = await t.database.admin<{ id: string }>(
      "UPDATE environments SET name = 'tampered' WHERE workspace_id = $1 AND name = 'prod' RETURNING id",
      [workspaceId],
    );
    expect(row).toBeDefined();
    try {
      const tampered = await runCheck(env);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toContain(
        `replayed ${n} events: projections differ in 1 table\n\nenvironments\n`,
      );
      expect(tampered.stdout).toMatch(/only in the live table \(1\):\n {4}\{.*"tampered"/);
      expect(tampered.stdout).toMatch(/only in the replay \(1\):\n {4}\{.*"prod"/);
    } finally {
      await t.database.admin("UPDATE environments SET name = 'prod' WHERE id = $1", [row!.id]);
    }

    // A login that may not create databases is a configuration error.
    const unprivileged = await runCheck({ ...env, DATABASE_ADMIN_URL: t.database.appUrl });
    expect(unprivileged.code).toBe(2);
    expect(unprivileged.stderr).toContain("DATABASE_ADMIN_URL");
    expect((await runCheck({ ...env, DATABASE_URL: "mysql://nope" })).code).toBe(2);
    expect((await runCheck(env)).code).toBe(0);
  });
});
