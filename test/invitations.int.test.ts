import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Auth, type TestApp } from "./testkit/testApp.ts";

// Invitations instead of shown passwords: a single-use, expiring link whose hash alone is
// stored. The test owns the clock, so expiry is a clock move, not a wait.

const DAY = 24 * 3600_000;
let now = Date.parse("2026-12-08T09:00:00Z");
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ clock: () => new Date(now) });
});
afterAll(() => t.close());

const ERR = `__typename ... on Error { code message }`;
const INVITE = `mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { ${ERR} ... on MutationInviteOrganizationMemberSuccess { data { url invitation { id email role status expiresAt } } } } }`;
const ACCEPT = `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${ERR} ... on MutationAcceptInvitationSuccess { data { id name } } } }`;
const REVOKE = `mutation($id: ID!) { revokeInvitation(id: $id) { ${ERR} ... on MutationRevokeInvitationSuccess { data { status } } } }`;
const PREVIEW = `query($t: String!) { invitation(token: $t) { organizationName email role status accountExists } }`;
const PENDING = `query($id: ID!) { organization(id: $id) { invitations { email role status } members { edges { node { role user { email } } } } } }`;

type Tenant = Awaited<ReturnType<TestApp["createTenant"]>>;

async function invite(tenant: Tenant, email: string, role = "MEMBER", auth: Auth = tenant.session) {
  const result = (
    await t.gql(INVITE, { i: { organizationId: tenant.organizationId, email, role } }, auth)
  ).data.inviteOrganizationMember;
  return {
    result,
    token: result.data ? (result.data.url as string).split("#")[1]! : "",
    id: result.data?.invitation.id as string,
  };
}

const accept = (token: string, auth?: Auth, password?: string) =>
  t.gql(ACCEPT, { i: { token, ...(password ? { password } : {}) } }, auth);

const head = async () =>
  (
    await t.database.admin<{ p: number }>(`SELECT coalesce(max(position), 0)::int AS p FROM events`)
  )[0]!.p;

describe("invitations", () => {
  it("gives a link once; the invitee sets a password, is signed in, and joins with the role", async () => {
    const tenant = await t.createTenant("Acme");
    const before = await head();
    const { result, token } = await invite(tenant, "Newcomer@Example.test", "ADMIN");
    expect(result.data.invitation).toMatchObject({
      email: "newcomer@example.test",
      role: "ADMIN",
      status: "PENDING",
      expiresAt: new Date(now + 7 * DAY).toISOString(),
    });
    expect(result.data.url).toMatch(/^http:\/\/coffer\.test\/invite#coffer_inv_[\w-]{43}$/);
    expect(
      (await t.gql(PENDING, { id: tenant.organizationId }, tenant.session)).data.organization
        .invitations,
    ).toEqual([{ email: "newcomer@example.test", role: "ADMIN", status: "PENDING" }]);

    // Before accepting, the link's holder sees what it is for; an unknown link is null.
    expect((await t.gql(PREVIEW, { t: token })).data.invitation).toEqual({
      organizationName: "Acme",
      email: "newcomer@example.test",
      role: "ADMIN",
      status: "PENDING",
      accountExists: false,
    });
    expect((await t.gql(PREVIEW, { t: `${token.slice(0, -2)}xx` })).data.invitation).toBeNull();
    expect((await t.gql(PREVIEW, { t: "garbage" })).data.invitation).toBeNull();

    // A new account needs a password, long enough.
    expect((await accept(token)).data.acceptInvitation).toMatchObject({
      __typename: "UnauthenticatedError",
      message: "Choose a password to create your account",
    });
    expect((await accept(token, undefined, "short")).data.acceptInvitation).toMatchObject({
      __typename: "ValidationError",
    });
    const joined = await accept(token, undefined, "newcomer's own password");
    expect(joined.data.acceptInvitation).toMatchObject({ data: { name: "Acme" } });
    const cookie = joined.headers.get("set-cookie")!.split(";")[0]!;
    const members = (await t.gql(PENDING, { id: tenant.organizationId }, { cookie })).data
      .organization;
    expect(members.members.edges.map((e: { node: unknown }) => e.node)).toContainEqual({
      role: "ADMIN",
      user: { email: "newcomer@example.test" },
    });
    expect(members.invitations).toEqual([]); // accepted: no longer pending
    await t.signIn("newcomer@example.test", "newcomer's own password");

    // Used once: the same link again is refused, signed in or not.
    expect((await accept(token, { cookie })).data.acceptInvitation).toMatchObject({
      __typename: "ValidationError",
      message: "This invitation was already used",
    });
    expect((await t.gql(PREVIEW, { t: token })).data.invitation.status).toBe("ACCEPTED");

    const events = await t.database.admin<{ type: string; text: string }>(
      `SELECT type, data::text || metadata::text AS text FROM events WHERE position > $1 ORDER BY position`,
      [before],
    );
    expect(events.map((e) => e.type)).toEqual([
      "InvitationIssued",
      "InvitationAccepted",
      "UserRegistered",
      "OrgMemberAdded",
      "UserSignedIn",
      "UserSignedIn",
    ]);
    // The link is a credential: only its hash is stored, never in an event or a log line,
    // and it is in no response but the one that issued it.
    const secretPart = token.slice("coffer_inv_".length);
    expect(events.filter((e) => e.text.includes(secretPart))).toEqual([]);
    expect(t.logs.join("\n")).not.toContain(secretPart);
    expect(t.responses.filter((r) => r.includes(secretPart))).toHaveLength(1);
    const [row] = await t.database.admin<{ token_hash: string }>(
      `SELECT token_hash FROM invitations WHERE email = 'newcomer@example.test'`,
    );
    expect(row!.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("lets an existing account join only when signed in as the invited address", async () => {
    const tenant = await t.createTenant();
    const invitee = await t.createUser();
    const someoneElse = await t.createUser();
    const { token } = await invite(tenant, invitee.email);
    expect((await t.gql(PREVIEW, { t: token })).data.invitation.accountExists).toBe(true);

    // Signed out, a password does not take over the existing account.
    const anonymous = await accept(token, undefined, "an attacker's new password");
    expect(anonymous.data.acceptInvitation).toMatchObject({
      __typename: "UnauthenticatedError",
      message: `${invitee.email} already has an account: sign in with it, then open the link again`,
    });
    expect(anonymous.headers.get("set-cookie")).toBeNull();
    await t.signIn(invitee.email, invitee.password); // the password did not change

    // Another signed-in user holding the link is refused, and the link still works.
    const other = await t.signIn(someoneElse.email, someoneElse.password);
    expect((await accept(token, other)).data.acceptInvitation).toMatchObject({
      __typename: "ValidationError",
      message: `This invitation is for ${invitee.email}; sign in with that address to accept it`,
    });
    expect(
      (
        await t.gql(
          `query($id: ID!) { organization(id: $id) { id } }`,
          { id: tenant.organizationId },
          other,
        )
      ).data.organization,
    ).toBeNull();

    const session = await t.signIn(invitee.email, invitee.password);
    const joined = await accept(token, session);
    expect(joined.data.acceptInvitation.__typename).toBe("MutationAcceptInvitationSuccess");
    expect(joined.headers.get("set-cookie")).toBeNull(); // the session they had goes on
  });

  it("refuses an expired link, records the expiry once, and the sweep records the others", async () => {
    const tenant = await t.createTenant();
    const first = await invite(tenant, "late@example.test");
    const second = await invite(tenant, "never-opened@example.test");
    const fresh = await invite(tenant, "fresh@example.test");
    now += 7 * DAY; // exactly at expiry: no longer usable
    // The owner's session ran out too; signed in again, they invite fresh@ anew, which
    // replaces the pending invitation (it expires later).
    const owner = await t.signIn(tenant.owner.email, tenant.owner.password);
    await invite(tenant, "fresh@example.test", "MEMBER", owner);
    expect((await t.gql(PREVIEW, { t: first.token })).data.invitation.status).toBe("EXPIRED");
    const before = await head();
    expect(
      (await accept(first.token, undefined, "a password long enough")).data.acceptInvitation,
    ).toMatchObject({
      __typename: "ValidationError",
      message: "This invitation has expired; ask an administrator for a new one",
    });
    expect(
      (await accept(first.token, undefined, "a password long enough")).data.acceptInvitation,
    ).toMatchObject({ __typename: "ValidationError" });
    const expired = await t.database.admin<{ type: string; data: { invitationId: string } }>(
      `SELECT type, data FROM events WHERE position > $1 ORDER BY position`,
      [before],
    );
    expect(expired.map((e) => e.type)).toEqual(["InvitationExpired"]);
    expect(await t.database.admin(`SELECT 1 FROM users WHERE email = 'late@example.test'`)).toEqual(
      [],
    );

    // The worker's sweep records what nobody tried; running it again records nothing.
    expect(await t.app.services.invitations.expireDue()).toBe(1);
    expect(await t.app.services.invitations.expireDue()).toBe(0);
    const statuses = await t.database.admin<{ email: string; status: string }>(
      `SELECT email, status FROM invitations WHERE organization_id = (SELECT organization_id FROM invitations WHERE email = 'late@example.test') ORDER BY created_at, email`,
    );
    expect(statuses).toEqual([
      { email: "fresh@example.test", status: "REVOKED" },
      { email: "late@example.test", status: "EXPIRED" },
      { email: "never-opened@example.test", status: "EXPIRED" },
      { email: "fresh@example.test", status: "PENDING" },
    ]);
    expect(
      (await accept(second.token, undefined, "a password long enough")).data.acceptInvitation,
    ).toMatchObject({ message: "This invitation has expired; ask an administrator for a new one" });
    // The replaced link stopped working when it was replaced.
    expect(
      (await accept(fresh.token, undefined, "a password long enough")).data.acceptInvitation,
    ).toMatchObject({
      message: "This invitation was withdrawn; ask an administrator for a new one",
    });
  });

  it("is withdrawn by an admin: the link stops working; only an OWNER invites an OWNER", async () => {
    const tenant = await t.createTenant();
    const admin = await t.addMember(tenant, "ADMIN");
    const member = await t.addMember(tenant, "MEMBER");
    const { id, token } = await invite(tenant, "withdrawn@example.test", "ADMIN", admin.session);
    expect((await t.gql(REVOKE, { id }, member.session)).data.revokeInvitation.__typename).toBe(
      "NotFoundError",
    );
    expect((await t.gql(REVOKE, { id }, admin.session)).data.revokeInvitation).toMatchObject({
      data: { status: "REVOKED" },
    });
    expect((await t.gql(REVOKE, { id }, admin.session)).data.revokeInvitation).toMatchObject({
      data: { status: "REVOKED" },
    }); // again: nothing more happens
    expect(
      (await accept(token, undefined, "a password long enough")).data.acceptInvitation,
    ).toMatchObject({
      message: "This invitation was withdrawn; ask an administrator for a new one",
    });

    expect(
      (await invite(tenant, "owner@example.test", "OWNER", admin.session)).result,
    ).toMatchObject({ __typename: "ForbiddenError" });
    expect((await invite(tenant, "x@example.test", "MEMBER", member.session)).result).toMatchObject(
      {
        __typename: "ForbiddenError",
      },
    );
    const ownerInvite = await invite(tenant, "owner@example.test", "OWNER");
    expect(
      (await t.gql(REVOKE, { id: ownerInvite.id }, admin.session)).data.revokeInvitation,
    ).toMatchObject({ __typename: "ForbiddenError" });
    expect((await invite(tenant, member.email)).result).toMatchObject({
      __typename: "ConflictError",
      message: `${member.email} is already a member`,
    });
    expect((await invite(tenant, "not an email")).result).toMatchObject({
      __typename: "ValidationError",
    });
    // A MEMBER does not see the pending invitations.
    expect(
      (await t.gql(PENDING, { id: tenant.organizationId }, member.session)).data.organization
        .invitations,
    ).toEqual([]);
  });

  it("keeps another organization's invitation out of reach", async () => {
    const victim = await t.createTenant();
    const intruder = await t.createTenant();
    const { id } = await invite(victim, "victim-invitee@example.test");
    const revoked = (await t.gql(REVOKE, { id }, intruder.session)).data.revokeInvitation;
    expect(revoked).toMatchObject({ __typename: "NotFoundError" });
    const node = await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, intruder.session);
    expect(node.data.node).toBeNull();
    expect(
      (
        await t.gql(
          `query($id: ID!) { node(id: $id) { id ... on Invitation { email } } }`,
          { id },
          victim.session,
        )
      ).data.node,
    ).toMatchObject({ email: "victim-invitee@example.test" });
  });
});
