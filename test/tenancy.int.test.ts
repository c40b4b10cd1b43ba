import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const eventTypesSince = async (position: bigint) =>
  (
    await t.database.admin<{ type: string }>(
      `SELECT type FROM events WHERE position > $1 ORDER BY position`,
      [position.toString()],
    )
  ).map((r) => r.type);
const headPosition = async () =>
  BigInt(
    (
      await t.database.admin<{ p: string | null }>(`SELECT max(position)::text AS p FROM events`)
    )[0]!.p ?? "0",
  );

const RESULT = `__typename ... on Error { message code } ... on ValidationError { issues { path message } }`;

describe("tenancy commands write exactly their events", () => {
  it("creating an organization makes the creator OWNER and appends OrganizationCreated", async () => {
    const user = await t.createUser();
    const session = await t.signIn(user.email, user.password);
    const before = await headPosition();
    const org = await t.ok(
      "createOrganization",
      `mutation { createOrganization(input: { name: "Acme Security" }) { ${RESULT} ... on MutationCreateOrganizationSuccess { data { id name slug viewerRole members { edges { node { role user { email } } } } } } } }`,
      {},
      session,
    );
    expect(org).toMatchObject({
      name: "Acme Security",
      slug: "acme-security",
      viewerRole: "OWNER",
    });
    expect(org.members.edges).toEqual([{ node: { role: "OWNER", user: { email: user.email } } }]);
    expect(await eventTypesSince(before)).toEqual(["OrganizationCreated"]);
  });

  it("creating a workspace declares `default` and gives it a random AWS external id", async () => {
    const tenant = await t.createTenant();
    const before = await headPosition();
    const ws = await t.ok(
      "createWorkspace",
      `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ${RESULT} ... on MutationCreateWorkspaceSuccess { data { slug awsExternalId environments { name } } } } }`,
      { input: { organizationId: tenant.organizationId, name: "Customer ACME" } },
      tenant.session,
    );
    const other = await t.ok(
      "createWorkspace",
      `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ${RESULT} ... on MutationCreateWorkspaceSuccess { data { awsExternalId } } } }`,
      { input: { organizationId: tenant.organizationId, name: "Second" } },
      tenant.session,
    );
    expect(ws).toMatchObject({ slug: "customer-acme", environments: [{ name: "default" }] });
    expect(ws.awsExternalId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(other.awsExternalId).not.toBe(ws.awsExternalId);
    expect(await eventTypesSince(before)).toEqual([
      "WorkspaceCreated",
      "EnvironmentDeclared",
      "WorkspaceCreated",
      "EnvironmentDeclared",
    ]);
  });

  it("declares and deletes environments, but never `default`, and validates names", async () => {
    const tenant = await t.createTenant();
    const declare = (name: string) =>
      t.gql(
        `mutation($input: EnvironmentInput!) { declareEnvironment(input: $input) { ${RESULT} ... on MutationDeclareEnvironmentSuccess { data { name } } } }`,
        { input: { workspaceId: tenant.workspaceId, name } },
        tenant.session,
      );
    const remove = (name: string) =>
      t.gql(
        `mutation($input: EnvironmentInput!) { deleteEnvironment(input: $input) { ${RESULT} ... on MutationDeleteEnvironmentSuccess { data { environments { name } } } } }`,
        { input: { workspaceId: tenant.workspaceId, name } },
        tenant.session,
      );
    const before = await headPosition();
    expect((await declare("customer_acme")).data.declareEnvironment.data.name).toBe(
      "customer_acme",
    );
    expect((await declare("123456789012")).data.declareEnvironment.data.name).toBe("123456789012");
    expect((await declare("customer_acme")).data.declareEnvironment).toMatchObject({
      __typename: "ConflictError",
    });
    expect((await declare("-bad name")).data.declareEnvironment).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "name" }],
    });
    expect((await remove("default")).data.deleteEnvironment).toMatchObject({
      __typename: "ValidationError",
      message: 'The "default" environment cannot be deleted',
    });
    expect((await remove("nope")).data.deleteEnvironment).toMatchObject({
      __typename: "NotFoundError",
    });
    const deleted = (await remove("customer_acme")).data.deleteEnvironment;
    expect(deleted.data.environments.map((e: { name: string }) => e.name)).toEqual([
      "123456789012",
      "default",
    ]);
    expect(await eventTypesSince(before)).toEqual([
      "EnvironmentDeclared",
      "EnvironmentDeclared",
      "EnvironmentDeleted",
    ]);
  });

  it("adds by invitation, re-roles and removes members, and never removes or demotes the last OWNER", async () => {
    const tenant = await t.createTenant();
    const before = await headPosition();
    const { url } = await t.ok(
      "inviteOrganizationMember",
      `mutation($input: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $input) { ${RESULT} ... on MutationInviteOrganizationMemberSuccess { data { url invitation { email role } } } } }`,
      {
        input: {
          organizationId: tenant.organizationId,
          email: "New.Person@Example.test",
          role: "MEMBER",
        },
      },
      tenant.session,
    );
    const joined = await t.gql(
      `mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { ${RESULT} ... on MutationAcceptInvitationSuccess { data { id } } } }`,
      { input: { token: url.split("#")[1], password: "a new password of mine" } },
    );
    expect(joined.data.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
    await t.signIn("new.person@example.test", "a new password of mine");
    const [newcomer] = await t.database.admin<{ id: string }>(
      `SELECT id::text FROM users WHERE email = 'new.person@example.test'`,
    );
    const userId = newcomer!.id;

    const role = (r: string, id = userId) =>
      t.gql(
        `mutation($input: ChangeOrganizationMemberRoleInput!) { changeOrganizationMemberRole(input: $input) { ${RESULT} ... on MutationChangeOrganizationMemberRoleSuccess { data { role } } } }`,
        { input: { organizationId: tenant.organizationId, userId: id, role: r } },
        tenant.session,
      );
    const removeMember = (id: string) =>
      t.gql(
        `mutation($input: RemoveOrganizationMemberInput!) { removeOrganizationMember(input: $input) { ${RESULT} ... on MutationRemoveOrganizationMemberSuccess { data { members { totalCount: edges { node { role } } } } } } }`,
        { input: { organizationId: tenant.organizationId, userId: id } },
        tenant.session,
      );
    expect((await role("ADMIN")).data.changeOrganizationMemberRole.data.role).toBe("ADMIN");
    expect(
      (await role("OWNER", tenant.owner.userId)).data.changeOrganizationMemberRole.data.role,
    ).toBe("OWNER"); // no-op: no event
    const demote = (await role("ADMIN", tenant.owner.userId)).data.changeOrganizationMemberRole;
    expect(demote).toMatchObject({ __typename: "ValidationError" });
    expect(demote.message).toMatch(/last OWNER/);
    expect((await removeMember(tenant.owner.userId)).data.removeOrganizationMember).toMatchObject({
      __typename: "ValidationError",
    });
    expect((await removeMember(userId)).data.removeOrganizationMember.__typename).toBe(
      "MutationRemoveOrganizationMemberSuccess",
    );
    expect(await eventTypesSince(before)).toEqual([
      "InvitationIssued",
      "InvitationAccepted",
      "UserRegistered",
      "OrgMemberAdded",
      "UserSignedIn", // the session the accepted invitation opened
      "UserSignedIn",
      "OrgMemberRoleChanged",
      "OrgMemberRemoved",
    ]);
  });

  it("lets only an OWNER grant OWNER; an ADMIN manages everyone else", async () => {
    const tenant = await t.createTenant();
    const admin = await t.addMember(tenant, "ADMIN");
    const member = await t.addMember(tenant, "MEMBER");
    const promote = (auth: { cookie: string }, userId: string, role: string) =>
      t.gql(
        `mutation($input: ChangeOrganizationMemberRoleInput!) { changeOrganizationMemberRole(input: $input) { ${RESULT} } }`,
        { input: { organizationId: tenant.organizationId, userId, role } },
        auth,
      );
    expect(
      (await promote(admin.session, member.userId, "OWNER")).data.changeOrganizationMemberRole
        .__typename,
    ).toBe("ForbiddenError");
    expect(
      (await promote(admin.session, tenant.owner.userId, "MEMBER")).data
        .changeOrganizationMemberRole.__typename,
    ).toBe("ForbiddenError");
    expect(
      (await promote(admin.session, member.userId, "ADMIN")).data.changeOrganizationMemberRole
        .__typename,
    ).toBe("MutationChangeOrganizationMemberRoleSuccess");
    expect(
      (await promote(tenant.session, member.userId, "OWNER")).data.changeOrganizationMemberRole
        .__typename,
    ).toBe("MutationChangeOrganizationMemberRoleSuccess");
  });

  it("manages workspace members among organization members only", async () => {
    const tenant = await t.createTenant();
    const member = await t.addMember(tenant, "MEMBER");
    const outsider = await t.createUser();
    const add = (userId: string, role: string) =>
      t.gql(
        `mutation($input: WorkspaceMemberInput!) { addWorkspaceMember(input: $input) { ${RESULT} ... on MutationAddWorkspaceMemberSuccess { data { role user { email } } } } }`,
        { input: { workspaceId: tenant.workspaceId, userId, role } },
        tenant.session,
      );
    expect((await add(outsider.userId, "VIEWER")).data.addWorkspaceMember.__typename).toBe(
      "NotFoundError",
    );
    const before = await headPosition();
    expect((await add(member.userId, "VIEWER")).data.addWorkspaceMember.data).toEqual({
      role: "VIEWER",
      user: { email: member.email },
    });
    const changed = await t.gql(
      `mutation($input: WorkspaceMemberInput!) { changeWorkspaceMemberRole(input: $input) { ${RESULT} ... on MutationChangeWorkspaceMemberRoleSuccess { data { role } } } }`,
      { input: { workspaceId: tenant.workspaceId, userId: member.userId, role: "EDITOR" } },
      tenant.session,
    );
    expect(changed.data.changeWorkspaceMemberRole.data.role).toBe("EDITOR");
    const removed = await t.gql(
      `mutation($input: RemoveWorkspaceMemberInput!) { removeWorkspaceMember(input: $input) { ${RESULT} ... on MutationRemoveWorkspaceMemberSuccess { data { members { edges { node { user { email } } } } } } } }`,
      { input: { workspaceId: tenant.workspaceId, userId: member.userId } },
      tenant.session,
    );
    expect(removed.data.removeWorkspaceMember.data.members.edges).toEqual([]);
    expect(await eventTypesSince(before)).toEqual([
      "WorkspaceMemberAdded",
      "WorkspaceMemberRoleChanged",
      "WorkspaceMemberRemoved",
    ]);
  });
});

describe("a command whose event cannot be written changes nothing", () => {
  // The database refuses every insert into events while this trigger exists: the same
  // failure as a full disk or a lost connection at the append, after the projections ran.
  const breakAppends = () =>
    t.database.admin(`
      CREATE OR REPLACE FUNCTION test_refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'test: event store unavailable'; END; $$;
      CREATE TRIGGER test_refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_refuse_events();`);
  const repairAppends = () => t.database.admin(`DROP TRIGGER test_refuse_events ON events`);
  const snapshot = () =>
    t.database.admin(`
      SELECT (SELECT count(*) FROM organizations) o, (SELECT count(*) FROM workspaces) w, (SELECT count(*) FROM environments) e,
             (SELECT count(*) FROM org_members) om, (SELECT count(*) FROM workspace_members) wm, (SELECT count(*) FROM api_tokens) t,
             (SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL) tr, (SELECT count(*) FROM users) u,
             (SELECT string_agg(role, ',' ORDER BY user_id) FROM org_members) roles, (SELECT count(*) FROM events) ev`);

  it("for every tenancy mutation", async () => {
    const tenant = await t.createTenant();
    const member = await t.addMember(tenant, "MEMBER");
    await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: tenant.workspaceId, name: "staging" } },
      tenant.session,
    );
    const token = await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
      "SECRETS_READ",
    ]);
    const mutations: [string, string, Record<string, unknown>][] = [
      [
        "createOrganization",
        `mutation { createOrganization(input: { name: "Never" }) { __typename } }`,
        {},
      ],
      [
        "createWorkspace",
        `mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { __typename } }`,
        { i: { organizationId: tenant.organizationId, name: "Never" } },
      ],
      [
        "declareEnvironment",
        `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
        { i: { workspaceId: tenant.workspaceId, name: "never" } },
      ],
      [
        "deleteEnvironment",
        `mutation($i: EnvironmentInput!) { deleteEnvironment(input: $i) { __typename } }`,
        { i: { workspaceId: tenant.workspaceId, name: "staging" } },
      ],
      [
        "inviteOrganizationMember",
        `mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { __typename } }`,
        {
          i: { organizationId: tenant.organizationId, email: "never@example.test", role: "MEMBER" },
        },
      ],
      [
        "changeOrganizationMemberRole",
        `mutation($i: ChangeOrganizationMemberRoleInput!) { changeOrganizationMemberRole(input: $i) { __typename } }`,
        { i: { organizationId: tenant.organizationId, userId: member.userId, role: "ADMIN" } },
      ],
      [
        "addWorkspaceMember",
        `mutation($i: WorkspaceMemberInput!) { addWorkspaceMember(input: $i) { __typename } }`,
        { i: { workspaceId: tenant.workspaceId, userId: member.userId, role: "VIEWER" } },
      ],
      [
        "removeOrganizationMember",
        `mutation($i: RemoveOrganizationMemberInput!) { removeOrganizationMember(input: $i) { __typename } }`,
        { i: { organizationId: tenant.organizationId, userId: member.userId } },
      ],
      [
        "issueApiToken",
        `mutation($i: IssueApiTokenInput!) { issueApiToken(input: $i) { __typename } }`,
        { i: { organizationId: tenant.organizationId, name: "never", permissions: ["ADMIN"] } },
      ],
      [
        "revokeApiToken",
        `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`,
        { id: token.apiToken.id },
      ],
    ];
    const before = await snapshot();
    await breakAppends();
    try {
      for (const [field, query, variables] of mutations) {
        const result = await t.gql(query, variables, tenant.session);
        expect(result.errors?.[0]?.extensions?.code, field).toBe("INTERNAL_SERVER_ERROR");
        expect(result.raw, field).not.toContain("event store unavailable"); // masked
      }
      expect(await snapshot()).toEqual(before);
    } finally {
      await repairAppends();
    }
    // The same commands work again once appends do, proving the fixture was realistic.
    for (const [field, query, variables] of mutations) {
      const result = await t.gql(query, variables, tenant.session);
      expect(result.data[field].__typename, field).toMatch(/Success$/);
    }
  });
});

describe("the AWS external id", () => {
  it("is shown to workspace admins only, and rotates with an event", async () => {
    const tenant = await t.createTenant();
    const editor = await t.addMember(tenant, "MEMBER", "EDITOR");
    const read = (auth: { cookie: string }) =>
      t.gql(
        `query($id: ID!) { workspace(id: $id) { awsExternalId } }`,
        { id: tenant.workspaceId },
        auth,
      );
    const before = (await read(tenant.session)).data.workspace.awsExternalId;
    expect(before).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await read(editor.session)).data.workspace.awsExternalId).toBeNull();
    const rotate = (auth: { cookie: string }) =>
      t.gql(
        `mutation($id: ID!) { rotateAwsExternalId(workspaceId: $id) { __typename ... on MutationRotateAwsExternalIdSuccess { data { awsExternalId } } } }`,
        { id: tenant.workspaceId },
        auth,
      );
    expect((await rotate(editor.session)).data.rotateAwsExternalId.__typename).toBe(
      "ForbiddenError",
    );
    const mark = await headPosition();
    const after = (await rotate(tenant.session)).data.rotateAwsExternalId.data.awsExternalId;
    expect(after).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(after).not.toBe(before);
    expect(await eventTypesSince(mark)).toEqual(["AwsExternalIdRotated"]);
  });
});
