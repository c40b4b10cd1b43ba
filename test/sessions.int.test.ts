import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { randomUUID } from "node:crypto";
import { startTestApp, type Auth, type TestApp } from "./testkit/testApp.ts";

// Sessions: a user lists and ends their own console sessions; an organization admin signs
// a member out everywhere. Each ended cookie stops working at once, and each is audited.

let t: TestApp;
const decode = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;
const ERR = `__typename ... on Error { code message }`;
const SESSIONS = `{ viewer { sessions { id current createdAt expiresAt } } }`;
const REVOKE = `mutation($id: ID!) { revokeSession(id: $id) { ${ERR} ... on MutationRevokeSessionSuccess { data { id current } } } }`;
const END = `mutation($i: EndOrganizationMemberSessionsInput!) { endOrganizationMemberSessions(input: $i) { ${ERR} ... on MutationEndOrganizationMemberSessionsSuccess { data { id } } } }`;
const WHO = `{ viewer { kind user { email } } }`;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** Whether a cookie still signs its user in. */
const works = async (auth: Auth) => (await t.gql(WHO, {}, auth)).data?.viewer?.kind === "USER";

describe("sessions", () => {
  it("lists the user's own sessions, and ends one from another: its cookie stops working", async () => {
    const tenant = await t.createTenant();
    const laptop = await t.signIn(tenant.owner.email, tenant.owner.password);
    const listed = (await t.gql(SESSIONS, {}, tenant.session)).data.viewer.sessions;
    expect(listed).toHaveLength(2);
    expect(listed.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const other = listed.find((s: { current: boolean }) => !s.current);

    const revoked = await t.gql(REVOKE, { id: other.id }, tenant.session);
    expect(revoked.data.revokeSession).toMatchObject({
      __typename: "MutationRevokeSessionSuccess",
      data: { id: other.id, current: false },
    });
    expect(await works(laptop)).toBe(false);
    expect(await works(tenant.session)).toBe(true);
    expect((await t.gql(SESSIONS, {}, tenant.session)).data.viewer.sessions).toHaveLength(1);
    // Ending it again: as for a session that never existed.
    const again = await t.gql(REVOKE, { id: other.id }, tenant.session);
    const missing = await t.gql(
      REVOKE,
      { id: encodeGlobalID("Session", randomUUID()) },
      tenant.session,
    );
    expect(again.data.revokeSession).toEqual(missing.data.revokeSession);
    expect(missing.data.revokeSession.__typename).toBe("NotFoundError");
    const events = await t.database.admin<{ type: string }>(
      `SELECT type FROM events WHERE stream_id = $1 AND type = 'UserSessionRevoked'`,
      [`user-${tenant.owner.userId}`],
    );
    expect(events).toHaveLength(1);
  });

  it("answers another user's session id as a missing one, and leaves that session working", async () => {
    const victim = await t.createTenant();
    const stranger = await t.createTenant();
    const [victimSession] = (await t.gql(SESSIONS, {}, victim.session)).data.viewer.sessions;
    const aimed = await t.gql(REVOKE, { id: victimSession.id }, stranger.session);
    const missing = await t.gql(
      REVOKE,
      { id: encodeGlobalID("Session", randomUUID()) },
      stranger.session,
    );
    expect(aimed.data.revokeSession).toEqual(missing.data.revokeSession);
    expect(await works(victim.session)).toBe(true);
  });

  it("ending the current session clears its cookie", async () => {
    const tenant = await t.createTenant();
    const [current] = (await t.gql(SESSIONS, {}, tenant.session)).data.viewer.sessions;
    const result = await t.gql(REVOKE, { id: current.id }, tenant.session);
    expect(result.data.revokeSession.data.current).toBe(true);
    expect(result.headers.get("set-cookie") ?? "").toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    expect(await works(tenant.session)).toBe(false);
  });

  it("lets an organization admin sign a member out everywhere, recorded in the organization's log", async () => {
    const tenant = await t.createTenant();
    const member = await t.addMember(tenant, "MEMBER");
    const elsewhere = await t.signIn(member.email, member.password);
    const ended = await t.gql(
      END,
      { i: { organizationId: tenant.organizationId, userId: member.userId } },
      tenant.session,
    );
    expect(ended.data.endOrganizationMemberSessions.__typename).toBe(
      "MutationEndOrganizationMemberSessionsSuccess",
    );
    expect(await works(member.session)).toBe(false);
    expect(await works(elsewhere)).toBe(false);
    expect(await works(tenant.session)).toBe(true);
    const [event] = await t.database.admin<{ data: { userId: string }; actor: string }>(
      `SELECT data, metadata->'actor'->>'id' AS actor FROM events WHERE organization_id = $1 AND type = 'OrgMemberSessionsEnded'`,
      [decode(tenant.organizationId)],
    );
    expect(event).toEqual({ data: { userId: member.userId }, actor: tenant.owner.userId });
    // They sign in again as usual.
    expect(await works(await t.signIn(member.email, member.password))).toBe(true);
  });

  it("keeps an OWNER's sessions from an ADMIN, and a MEMBER from anyone's", async () => {
    const tenant = await t.createTenant();
    const admin = await t.addMember(tenant, "ADMIN");
    const member = await t.addMember(tenant, "MEMBER");
    const byAdmin = await t.gql(
      END,
      { i: { organizationId: tenant.organizationId, userId: tenant.owner.userId } },
      admin.session,
    );
    expect(byAdmin.data.endOrganizationMemberSessions.__typename).toBe("ForbiddenError");
    const byMember = await t.gql(
      END,
      { i: { organizationId: tenant.organizationId, userId: admin.userId } },
      member.session,
    );
    expect(byMember.data.endOrganizationMemberSessions.__typename).toBe("ForbiddenError");
    expect(await works(tenant.session)).toBe(true);
    expect(await works(admin.session)).toBe(true);
    // A user who is not a member, or no user id at all: NotFound, like a missing member.
    const stranger = await t.createTenant();
    for (const userId of [stranger.owner.userId, "not-a-user-id"]) {
      const result = await t.gql(
        END,
        { i: { organizationId: tenant.organizationId, userId } },
        tenant.session,
      );
      expect(result.data.endOrganizationMemberSessions).toMatchObject({
        __typename: "NotFoundError",
        message: "Member not found",
      });
    }
    expect(await works(stranger.session)).toBe(true);
  });
});
