import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveOps } from "./testkit/resolveOps.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

/** resolveSecrets, checkSecrets and Secret.recentUsage across tenants, workspaces and roles. */
let t: TestApp;
let r: ReturnType<typeof resolveOps>;
let a: Awaited<ReturnType<TestApp["createTenant"]>>;
let b: Awaited<ReturnType<TestApp["createTenant"]>>;
let secondWorkspace: string;
const missingWorkspace = () => encodeGlobalID("Workspace", randomUUID());
const args = { k: "${{ SECRETS.shared-name.KEY }}" };

beforeAll(async () => {
  t = await startTestApp();
  r = resolveOps(t);
  const ops = secretOps(t);
  a = await t.createTenant("A");
  b = await t.createTenant("B");
  await ops.create(b.session, {
    workspaceId: b.workspaceId,
    name: "shared-name",
    values: asInput({ KEY: "b-value-never-leaves" }),
  });
  const ws = await t.gql(
    `mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { ... on MutationCreateWorkspaceSuccess { data { id } } } }`,
    { i: { organizationId: a.organizationId, name: "Other" } },
    a.session,
  );
  secondWorkspace = ws.data.createWorkspace.data.id;
  await ops.create(a.session, {
    workspaceId: secondWorkspace,
    name: "shared-name",
    values: asInput({ KEY: "other-workspace-value" }),
  });
});
afterAll(() => t.close());

describe("resolution across tenants", () => {
  it("an organization token naming another organization's workspace gets what a missing workspace gets", async () => {
    const token = (
      await t.issueToken(a.session, { organizationId: a.organizationId }, ["SECRETS_RESOLVE"])
    ).token;
    const onB = await r.resolve({ token }, { workspaceId: b.workspaceId, arguments: args });
    const onMissing = await r.resolve(
      { token },
      { workspaceId: missingWorkspace(), arguments: args },
    );
    expect(onB).toEqual(onMissing);
    expect(onB.__typename).toBe("NotFoundError");
    expect(
      await r.check({ token }, { workspaceId: b.workspaceId, actions: [{ arguments: args }] }),
    ).toEqual(
      await r.check({ token }, { workspaceId: missingWorkspace(), actions: [{ arguments: args }] }),
    );
    expect(JSON.stringify(t.responses)).not.toContain("b-value-never-leaves");
  });

  it("a workspace token resolves only its own workspace's secrets, whatever workspace it names", async () => {
    const token = (
      await t.issueToken(a.session, { workspaceId: a.workspaceId }, ["SECRETS_RESOLVE"])
    ).token;
    expect((await r.resolve({ token }, { arguments: args })).__typename).toBe(
      "CredentialNotFoundError",
    );
    expect(
      (await r.resolve({ token }, { workspaceId: secondWorkspace, arguments: args })).__typename,
    ).toBe("NotFoundError");
    expect(
      (await r.resolve({ token }, { workspaceId: b.workspaceId, arguments: args })).__typename,
    ).toBe("NotFoundError");
    expect(JSON.stringify(t.responses)).not.toContain("other-workspace-value");
  });

  it("needs secrets:resolve: a VIEWER and a read-only token are refused", async () => {
    const viewer = await t.addMember(a, "MEMBER", "VIEWER");
    expect(
      (await r.resolve(viewer.session, { workspaceId: a.workspaceId, arguments: args })).__typename,
    ).toBe("ForbiddenError");
    const reader = (await t.issueToken(a.session, { workspaceId: a.workspaceId }, ["SECRETS_READ"]))
      .token;
    expect((await r.resolve({ token: reader }, { arguments: args })).__typename).toBe(
      "ForbiddenError",
    );
    const check = await t.gql(
      `query($i: CheckSecretsInput!) { checkSecrets(input: $i) { ready } }`,
      { i: { actions: [{ arguments: args }] } },
      { token: reader },
    );
    expect(check.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("Recent usage of another organization's secret is as invisible as the secret", async () => {
    const secretOfB = (
      await t.gql(
        `query($id: ID!) { workspace(id: $id) { secrets { edges { node { id } } } } }`,
        { id: b.workspaceId },
        b.session,
      )
    ).data.workspace.secrets.edges[0].node.id;
    const query = `query($id: ID!) { secret(id: $id) { recentUsage { edges { node { runId } } } } }`;
    expect((await t.gql(query, { id: secretOfB }, a.session)).data).toEqual(
      (await t.gql(query, { id: encodeGlobalID("Secret", randomUUID()) }, a.session)).data,
    );
  });
});
