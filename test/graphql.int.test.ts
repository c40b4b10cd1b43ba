import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.createTenant();
});
afterAll(() => t.close());

describe("GraphQL limits", () => {
  it("rejects a query nested deeper than the limit and keeps serving", async () => {
    const deep = `{ viewer { organizations { workspaces { edges { node { organization { workspaces { edges { node { organization { workspaces { edges { node { id } } } } } } } } } } } } } }`;
    const result = await t.gql(deep, {}, tenant.session);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/depth|cost/i);
    expect((await t.gql(`{ viewer { kind } }`, {}, tenant.session)).data.viewer.kind).toBe("USER");
  });

  it("rejects an alias bomb", async () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: viewer { kind }`).join(" ");
    const result = await t.gql(`{ ${aliases} }`, {}, tenant.session);
    expect(result.errors?.[0]?.message).toMatch(/alias/i);
  });

  it("does not suggest field names to a caller who guesses", async () => {
    const result = await t.gql(`{ viewr { kind } }`, {}, tenant.session);
    expect(result.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});

describe("API token commands", () => {
  it("issue and revoke append exactly ApiTokenIssued and ApiTokenRevoked", async () => {
    const head = async () =>
      (
        await t.database.admin<{ p: string }>(
          `SELECT coalesce(max(position), 0)::text AS p FROM events`,
        )
      )[0]!.p;
    const before = await head();
    const issued = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "AUDIT_READ",
    ]);
    await t.gql(
      `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`,
      { id: issued.apiToken.id },
      tenant.session,
    );
    await t.gql(
      `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`,
      { id: issued.apiToken.id },
      tenant.session,
    ); // idempotent
    const types = await t.database.admin<{ type: string }>(
      `SELECT type FROM events WHERE position > $1 ORDER BY position`,
      [before],
    );
    expect(types.map((r) => r.type)).toEqual(["ApiTokenIssued", "ApiTokenRevoked"]);
  });
});

describe("values in malformed input", () => {
  it("are not echoed in variable-coercion errors", async () => {
    const leaked = 918273645546372;
    const result = await t.gql(
      `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
      {
        i: {
          workspaceId: tenant.workspaceId,
          name: "x",
          values: [
            { key: "K", value: leaked },
            { key: "J", value: { nested: "s3cr3t-in-object" } },
          ],
        },
      },
      tenant.session,
    );
    expect(result.errors?.length).toBeGreaterThan(0);
    expect(result.raw).not.toContain(String(leaked));
    expect(result.raw).not.toContain("s3cr3t-in-object");
    expect(result.errors?.[0]?.message).toBe(
      'Variable "$value" got an invalid value; Expected type String; String cannot represent this non string value',
    );
  });
});
