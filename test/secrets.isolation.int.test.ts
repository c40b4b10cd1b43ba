import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type Auth, type TestApp } from "./testkit/testApp.ts";

/**
 * Every secret query and mutation, asked by someone who must not see the secret, answers
 * exactly as for a secret that does not exist: another organization, another workspace
 * of the same organization, and another user's personal secret. A VIEWER sees but
 * cannot change.
 */
let t: TestApp;
let ops: ReturnType<typeof secretOps>;
let a: Awaited<ReturnType<TestApp["createTenant"]>>;
let b: Awaited<ReturnType<TestApp["createTenant"]>>;
let secretOfB: string;
let secretOfOtherWorkspace: string;
let personalOfOther: string;
let otherWorkspaceMember: Auth;
let viewer: Auth;
let editor: Auth;

const missing = () => encodeGlobalID("Secret", randomUUID());

beforeAll(async () => {
  t = await startTestApp();
  ops = secretOps(t);
  a = await t.createTenant("A");
  b = await t.createTenant("B");
  secretOfB = (
    await ops.create(b.session, {
      workspaceId: b.workspaceId,
      name: "b-secret",
      values: asInput({ K: "b-value" }),
    })
  ).data.secret.id;
  // A second workspace in A, whose member is not in A's first workspace.
  const second = await t.gql(
    `mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { ... on MutationCreateWorkspaceSuccess { data { id } } } }`,
    { i: { organizationId: a.organizationId, name: "Second" } },
    a.session,
  );
  const secondId = second.data.createWorkspace.data.id;
  secretOfOtherWorkspace = (
    await ops.create(a.session, {
      workspaceId: secondId,
      name: "second-ws-secret",
      values: asInput({ K: "second-value" }),
    })
  ).data.secret.id;
  const outsider = await t.addMember(a, "MEMBER");
  await t.gql(
    `mutation($i: WorkspaceMemberInput!) { addWorkspaceMember(input: $i) { __typename } }`,
    { i: { workspaceId: a.workspaceId, userId: outsider.userId, role: "EDITOR" } },
    a.session,
  );
  otherWorkspaceMember = outsider.session;
  const other = await t.addMember(a, "MEMBER", "EDITOR");
  personalOfOther = (
    await ops.create(other.session, {
      scope: "PERSONAL",
      workspaceId: a.workspaceId,
      name: "their-pat",
      values: asInput({ K: "their-value" }),
    })
  ).data.secret.id;
  viewer = (await t.addMember(a, "MEMBER", "VIEWER")).session;
  editor = (await t.addMember(a, "MEMBER", "EDITOR")).session;
});
afterAll(() => t.close());

const operations: [string, (auth: Auth, id: string) => Promise<unknown>][] = [
  ["secret query", (auth, id) => ops.get(auth, id)],
  [
    "node query",
    (auth, id) =>
      t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, auth).then((r) => r.data),
  ],
  ["updateSecret", (auth, id) => ops.update(auth, { id, set: asInput({ X: "x-value" }) })],
  ["rotateSecret", (auth, id) => ops.rotate(auth, { id, values: asInput({ X: "x-value" }) })],
  ["restoreSecretVersion", (auth, id) => ops.restore(auth, { id, version: 1 })],
  ["deleteSecret", (auth, id) => ops.remove(auth, id)],
  ["shareSecret", (auth, id) => ops.share(auth, id)],
];

describe.each([
  ["another organization's secret", () => a.session, () => secretOfB],
  [
    "a secret of a workspace the caller is not in",
    () => otherWorkspaceMember,
    () => secretOfOtherWorkspace,
  ],
  ["another user's personal secret", () => editor, () => personalOfOther],
  [
    "another user's personal secret, asked by the organization OWNER",
    () => a.session,
    () => personalOfOther,
  ],
])("%s", (_label, auth, id) => {
  it.each(operations)("%s answers as for a missing secret", async (_name, run) => {
    const onTheirs = await run(auth(), id());
    const onMissing = await run(auth(), missing());
    expect(onTheirs).toEqual(onMissing);
    expect(JSON.stringify(onMissing)).toMatch(/NotFoundError|null/);
  });
});

describe("listing and creating across tenants", () => {
  it("cannot list or create in another organization's workspace", async () => {
    const list = await t.gql(
      `query($id: ID!) { workspace(id: $id) { secrets { edges { node { name } } } } }`,
      { id: b.workspaceId },
      a.session,
    );
    expect(list.data.workspace).toBeNull();
    const create = await ops.create(a.session, {
      workspaceId: b.workspaceId,
      name: "intruder",
      values: asInput({ K: "v" }),
    });
    const createMissing = await ops.create(a.session, {
      workspaceId: encodeGlobalID("Workspace", randomUUID()),
      name: "intruder",
      values: asInput({ K: "v" }),
    });
    expect(create).toEqual(createMissing);
    const org = await ops.create(a.session, {
      scope: "ORGANIZATION",
      organizationId: b.organizationId,
      name: "intruder",
      values: asInput({ K: "v" }),
    });
    const orgMissing = await ops.create(a.session, {
      scope: "ORGANIZATION",
      organizationId: encodeGlobalID("Organization", randomUUID()),
      name: "intruder",
      values: asInput({ K: "v" }),
    });
    expect(org).toEqual(orgMissing);
    const configure = await ops.configure(a.session, {
      workspaceId: b.workspaceId,
      templateId: "slack",
      values: asInput({ SLACK_BOT_TOKEN: "xoxb" }),
    });
    const configureMissing = await ops.configure(a.session, {
      workspaceId: encodeGlobalID("Workspace", randomUUID()),
      templateId: "slack",
      values: asInput({ SLACK_BOT_TOKEN: "xoxb" }),
    });
    expect(configure).toEqual(configureMissing);
  });
});

describe("a VIEWER", () => {
  it("reads metadata but cannot create, change, delete or share", async () => {
    const secret = (
      await ops.create(a.session, {
        workspaceId: a.workspaceId,
        name: "viewed",
        values: asInput({ K: "viewed-value" }),
      })
    ).data.secret.id;
    expect((await ops.get(viewer, secret)).name).toBe("viewed");
    expect(
      (
        await ops.create(viewer, {
          workspaceId: a.workspaceId,
          name: "nope",
          values: asInput({ K: "v" }),
        })
      ).__typename,
    ).toBe("ForbiddenError");
    expect(
      (
        await ops.create(viewer, {
          scope: "PERSONAL",
          workspaceId: a.workspaceId,
          name: "nope",
          values: asInput({ K: "v" }),
        })
      ).__typename,
    ).toBe("ForbiddenError");
    expect(
      (
        await ops.configure(viewer, {
          workspaceId: a.workspaceId,
          templateId: "slack",
          values: asInput({ SLACK_BOT_TOKEN: "v" }),
        })
      ).__typename,
    ).toBe("ForbiddenError");
    for (const [name, run] of operations.slice(2)) {
      expect(((await run(viewer, secret)) as { __typename: string }).__typename, name).toBe(
        "ForbiddenError",
      );
    }
  });

  it("with a secrets:read token: reads, never writes", async () => {
    const token = await t.issueToken(a.session, { workspaceId: a.workspaceId }, ["SECRETS_READ"]);
    const list = await ops.list({ token: token.token }, a.workspaceId);
    expect(list.map((s: { name: string }) => s.name)).toContain("viewed");
    const created = await ops.create(
      { token: token.token },
      { workspaceId: a.workspaceId, name: "nope", values: asInput({ K: "v" }) },
    );
    expect(created.__typename).toBe("ForbiddenError");
    const personal = await t.issueToken(a.session, { workspaceId: a.workspaceId }, [
      "SECRETS_WRITE",
    ]);
    const mine = await ops.create(
      { token: personal.token },
      { scope: "PERSONAL", workspaceId: a.workspaceId, name: "nope", values: asInput({ K: "v" }) },
    );
    expect(mine).toMatchObject({
      __typename: "ForbiddenError",
      message: "Personal secrets belong to users; API tokens cannot own them",
    });
  });
});
