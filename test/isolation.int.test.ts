import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Auth, type TestApp } from "./testkit/testApp.ts";

/**
 * Another tenant's object must be indistinguishable from one that does not exist: for
 * every query and mutation, asking about B's object answers exactly like asking about a
 * random id of the same type.
 */
let t: TestApp;
let a: Awaited<ReturnType<TestApp["createTenant"]>>;
let b: Awaited<ReturnType<TestApp["createTenant"]>>;
let bToken: { apiToken: { id: string }; token: string };
let bMember: { userId: string };
let callers: [string, Auth][];
let bEventsAfterSetup: number;
const eventsOfB = async () =>
  (
    await t.database.admin<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE organization_id = $1`,
      [decode(b.organizationId)],
    )
  )[0]!.n;

const missing = (type: string) => encodeGlobalID(type, randomUUID());
const ERR = `__typename ... on Error { message code }`;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.createTenant("Tenant A");
  b = await t.createTenant("Tenant B");
  bToken = await t.issueToken(b.session, { workspaceId: b.workspaceId }, ["SECRETS_READ"]);
  bMember = await t.addMember(b, "MEMBER", "VIEWER");
  const aOrgToken = await t.issueToken(a.session, { organizationId: a.organizationId }, ["ADMIN"]);
  const aWsToken = await t.issueToken(a.session, { workspaceId: a.workspaceId }, ["ADMIN"]);
  callers = [
    ["A's owner (session)", a.session],
    ["A's organization token", { token: aOrgToken.token }],
    ["A's workspace token", { token: aWsToken.token }],
  ];
  bEventsAfterSetup = await eventsOfB();
});
afterAll(() => t.close());

/** Runs the operation on B's ids and on missing ids and expects identical answers. */
async function expectIndistinguishable(
  query: string,
  forB: Record<string, unknown>,
  forMissing: Record<string, unknown>,
) {
  for (const [who, auth] of callers) {
    const onB = await t.gql(query, forB, auth);
    const onMissing = await t.gql(query, forMissing, auth);
    expect(onB.data, `${who}: ${onB.raw}`).toEqual(onMissing.data);
    expect(onB.errors, who).toEqual(onMissing.errors);
    expect(JSON.stringify(onB.data ?? {}) + JSON.stringify(onB.errors ?? []), who).toMatch(
      /not found|null|\[\]|needs a signed-in user/i,
    );
  }
}

describe("queries", () => {
  it("organization, workspace and node lookups", async () => {
    await expectIndistinguishable(
      `query($id: ID!) { organization(id: $id) { id name } }`,
      { id: b.organizationId },
      { id: missing("Organization") },
    );
    await expectIndistinguishable(
      `query($id: ID!) { workspace(id: $id) { id name } }`,
      { id: b.workspaceId },
      { id: missing("Workspace") },
    );
    for (const [type, id] of [
      ["Organization", b.organizationId],
      ["Workspace", b.workspaceId],
      ["Environment", b.defaultEnvironmentId],
      ["ApiToken", bToken.apiToken.id],
    ] as const) {
      await expectIndistinguishable(
        `query($id: ID!) { node(id: $id) { id __typename } }`,
        { id },
        { id: missing(type) },
      );
      await expectIndistinguishable(
        `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
        { ids: [id] },
        { ids: [missing(type)] },
      );
    }
  });

  it("the audit log and its verification", async () => {
    await expectIndistinguishable(
      `query($id: ID!) { auditEvents(organizationId: $id, first: 5) { edges { node { type } } } }`,
      { id: b.organizationId },
      { id: missing("Organization") },
    );
    await expectIndistinguishable(
      `query($id: ID!) { verifyAuditChain(organizationId: $id) { ${ERR} } }`,
      { id: b.organizationId },
      { id: missing("Organization") },
    );
  });

  it("lists show only the caller's tenant", async () => {
    for (const [who, auth] of callers) {
      const result = await t.gql(
        `{ viewer { organizations { id workspaces { edges { node { id } } } } } }`,
        {},
        auth,
      );
      expect(
        result.data.viewer.organizations.map((o: { id: string }) => o.id),
        who,
      ).toEqual([a.organizationId]);
      expect(result.raw, who).not.toContain(b.workspaceId);
    }
  });
});

describe("mutations", () => {
  const cases: [string, string, () => Record<string, unknown>, () => Record<string, unknown>][] = [
    [
      "createWorkspace",
      `mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { ${ERR} } }`,
      () => ({ i: { organizationId: b.organizationId, name: "x" } }),
      () => ({ i: { organizationId: missing("Organization"), name: "x" } }),
    ],
    [
      "declareEnvironment",
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { ${ERR} } }`,
      () => ({ i: { workspaceId: b.workspaceId, name: "x" } }),
      () => ({ i: { workspaceId: missing("Workspace"), name: "x" } }),
    ],
    [
      "deleteEnvironment",
      `mutation($i: EnvironmentInput!) { deleteEnvironment(input: $i) { ${ERR} } }`,
      () => ({ i: { workspaceId: b.workspaceId, name: "default" } }),
      () => ({ i: { workspaceId: missing("Workspace"), name: "default" } }),
    ],
    [
      "inviteOrganizationMember",
      `mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { ${ERR} } }`,
      () => ({ i: { organizationId: b.organizationId, email: "x@example.test", role: "ADMIN" } }),
      () => ({
        i: { organizationId: missing("Organization"), email: "x@example.test", role: "ADMIN" },
      }),
    ],
    [
      "changeOrganizationMemberRole",
      `mutation($i: ChangeOrganizationMemberRoleInput!) { changeOrganizationMemberRole(input: $i) { ${ERR} } }`,
      () => ({ i: { organizationId: b.organizationId, userId: bMember.userId, role: "ADMIN" } }),
      () => ({
        i: { organizationId: missing("Organization"), userId: bMember.userId, role: "ADMIN" },
      }),
    ],
    [
      "removeOrganizationMember",
      `mutation($i: RemoveOrganizationMemberInput!) { removeOrganizationMember(input: $i) { ${ERR} } }`,
      () => ({ i: { organizationId: b.organizationId, userId: bMember.userId } }),
      () => ({ i: { organizationId: missing("Organization"), userId: bMember.userId } }),
    ],
    [
      "addWorkspaceMember",
      `mutation($i: WorkspaceMemberInput!) { addWorkspaceMember(input: $i) { ${ERR} } }`,
      () => ({ i: { workspaceId: b.workspaceId, userId: bMember.userId, role: "ADMIN" } }),
      () => ({ i: { workspaceId: missing("Workspace"), userId: bMember.userId, role: "ADMIN" } }),
    ],
    [
      "changeWorkspaceMemberRole",
      `mutation($i: WorkspaceMemberInput!) { changeWorkspaceMemberRole(input: $i) { ${ERR} } }`,
      () => ({ i: { workspaceId: b.workspaceId, userId: bMember.userId, role: "ADMIN" } }),
      () => ({ i: { workspaceId: missing("Workspace"), userId: bMember.userId, role: "ADMIN" } }),
    ],
    [
      "removeWorkspaceMember",
      `mutation($i: RemoveWorkspaceMemberInput!) { removeWorkspaceMember(input: $i) { ${ERR} } }`,
      () => ({ i: { workspaceId: b.workspaceId, userId: bMember.userId } }),
      () => ({ i: { workspaceId: missing("Workspace"), userId: bMember.userId } }),
    ],
    [
      "issueApiToken (organization)",
      `mutation($i: IssueApiTokenInput!) { issueApiToken(input: $i) { ${ERR} } }`,
      () => ({ i: { organizationId: b.organizationId, name: "x", permissions: ["ADMIN"] } }),
      () => ({ i: { organizationId: missing("Organization"), name: "x", permissions: ["ADMIN"] } }),
    ],
    [
      "issueApiToken (workspace)",
      `mutation($i: IssueApiTokenInput!) { issueApiToken(input: $i) { ${ERR} } }`,
      () => ({ i: { workspaceId: b.workspaceId, name: "x", permissions: ["ADMIN"] } }),
      () => ({ i: { workspaceId: missing("Workspace"), name: "x", permissions: ["ADMIN"] } }),
    ],
    [
      "revokeApiToken",
      `mutation($id: ID!) { revokeApiToken(id: $id) { ${ERR} } }`,
      () => ({ id: bToken.apiToken.id }),
      () => ({ id: missing("ApiToken") }),
    ],
  ];

  it.each(cases)(
    "%s on another tenant's object answers as for a missing one",
    async (_name, query, forB, forMissing) => {
      await expectIndistinguishable(query, forB(), forMissing());
    },
  );

  it("rotateAwsExternalId on another tenant's workspace answers as for a missing one", async () => {
    await expectIndistinguishable(
      `mutation($id: ID!) { rotateAwsExternalId(workspaceId: $id) { ${ERR} } }`,
      { id: b.workspaceId },
      { id: missing("Workspace") },
    );
  });

  it("a member of another organization looks like a missing user inside ours", async () => {
    const query = `mutation($i: ChangeOrganizationMemberRoleInput!) { changeOrganizationMemberRole(input: $i) { ${ERR} } }`;
    const onB = await t.gql(
      query,
      { i: { organizationId: a.organizationId, userId: b.owner.userId, role: "ADMIN" } },
      a.session,
    );
    const onMissing = await t.gql(
      query,
      { i: { organizationId: a.organizationId, userId: randomUUID(), role: "ADMIN" } },
      a.session,
    );
    expect(onB.data).toEqual(onMissing.data);
    expect(onB.data.changeOrganizationMemberRole.__typename).toBe("NotFoundError");
  });

  it("left B's organization without a single new event", async () => {
    expect(await eventsOfB()).toBe(bEventsAfterSetup);
  });
});

describe("roles and revoked credentials", () => {
  it("a VIEWER sees the workspace but cannot change it", async () => {
    const viewer = await t.addMember(a, "MEMBER", "VIEWER");
    const seen = await t.gql(
      `query($id: ID!) { workspace(id: $id) { name viewerPermissions } }`,
      { id: a.workspaceId },
      viewer.session,
    );
    expect(seen.data.workspace).toEqual({ name: "Main", viewerPermissions: ["SECRETS_READ"] });
    const attempts: [string, string, Record<string, unknown>][] = [
      [
        "declareEnvironment",
        `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { ${ERR} } }`,
        { i: { workspaceId: a.workspaceId, name: "x" } },
      ],
      [
        "deleteEnvironment",
        `mutation($i: EnvironmentInput!) { deleteEnvironment(input: $i) { ${ERR} } }`,
        { i: { workspaceId: a.workspaceId, name: "default" } },
      ],
      [
        "addWorkspaceMember",
        `mutation($i: WorkspaceMemberInput!) { addWorkspaceMember(input: $i) { ${ERR} } }`,
        { i: { workspaceId: a.workspaceId, userId: viewer.userId, role: "ADMIN" } },
      ],
      [
        "changeWorkspaceMemberRole",
        `mutation($i: WorkspaceMemberInput!) { changeWorkspaceMemberRole(input: $i) { ${ERR} } }`,
        { i: { workspaceId: a.workspaceId, userId: viewer.userId, role: "ADMIN" } },
      ],
      [
        "issueApiToken",
        `mutation($i: IssueApiTokenInput!) { issueApiToken(input: $i) { ${ERR} } }`,
        { i: { workspaceId: a.workspaceId, name: "x", permissions: ["SECRETS_READ"] } },
      ],
      [
        "createWorkspace",
        `mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { ${ERR} } }`,
        { i: { organizationId: a.organizationId, name: "x" } },
      ],
      [
        "inviteOrganizationMember",
        `mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { ${ERR} } }`,
        { i: { organizationId: a.organizationId, email: "y@example.test", role: "ADMIN" } },
      ],
    ];
    for (const [field, query, variables] of attempts) {
      const result = await t.gql(query, variables, viewer.session);
      expect(result.data[field].__typename, field).toBe("ForbiddenError");
    }
    const audit = await t.gql(
      `query($id: ID!) { auditEvents(organizationId: $id) { edges { cursor } } }`,
      { id: a.organizationId },
      viewer.session,
    );
    expect(audit.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("a token acts only within its permissions", async () => {
    const reader = await t.issueToken(a.session, { workspaceId: a.workspaceId }, ["SECRETS_READ"]);
    const result = await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { ${ERR} } }`,
      { i: { workspaceId: a.workspaceId, name: "x" } },
      { token: reader.token },
    );
    expect(result.data.declareEnvironment).toMatchObject({
      __typename: "ForbiddenError",
      message: 'Declaring environments needs the "admin" permission',
    });
    const issue = await t.gql(
      `mutation($i: IssueApiTokenInput!) { issueApiToken(input: $i) { ${ERR} } }`,
      { i: { workspaceId: a.workspaceId, name: "x", permissions: ["ADMIN"] } },
      { token: reader.token },
    );
    expect(issue.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("a revoked token, an expired token and a signed-out session are refused", async () => {
    const token = await t.issueToken(a.session, { organizationId: a.organizationId }, [
      "AUDIT_READ",
    ]);
    const viewer = `{ viewer { kind } }`;
    expect((await t.gql(viewer, {}, { token: token.token })).data.viewer.kind).toBe("API_TOKEN");
    const revoked = await t.gql(
      `mutation($id: ID!) { revokeApiToken(id: $id) { __typename ... on MutationRevokeApiTokenSuccess { data { status revokedAt } } } }`,
      { id: token.apiToken.id },
      a.session,
    );
    expect(revoked.data.revokeApiToken.data.status).toBe("REVOKED");
    expect((await t.gql(viewer, {}, { token: token.token })).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );

    // A token issued to expire in a second, used before and after.
    const expiring = await t.ok(
      "issueApiToken",
      `mutation($input: IssueApiTokenInput!) { issueApiToken(input: $input) { __typename ... on MutationIssueApiTokenSuccess { data { token } } } }`,
      {
        input: {
          organizationId: a.organizationId,
          name: "short",
          permissions: ["AUDIT_READ"],
          expiresAt: new Date(Date.now() + 1200).toISOString(),
        },
      },
      a.session,
    );
    expect((await t.gql(viewer, {}, { token: expiring.token })).data.viewer.kind).toBe("API_TOKEN");
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect((await t.gql(viewer, {}, { token: expiring.token })).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );

    const user = await t.addMember(a, "MEMBER");
    expect((await t.gql(viewer, {}, user.session)).data.viewer.kind).toBe("USER");
    const out = await t.gql(`mutation { signOut }`, {}, user.session);
    expect(out.data.signOut).toBe(true);
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect((await t.gql(viewer, {}, user.session)).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );
    expect(
      (
        await t.gql(
          `mutation { createOrganization(input: { name: "x" }) { __typename } }`,
          {},
          user.session,
        )
      ).errors?.[0]?.extensions?.code,
    ).toBe("UNAUTHENTICATED");
  });
});

function decode(globalId: string): string {
  return Buffer.from(globalId, "base64").toString("utf8").split(":")[1]!;
}
