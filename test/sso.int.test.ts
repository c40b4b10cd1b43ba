import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOAuthServer, type OAuthServer } from "./testkit/oauthServer.ts";
import { startTestApp, type Auth, type TestApp } from "./testkit/testApp.ts";

// Per-organization OpenID Connect single sign-on against a real oidc-provider on loopback:
// discovery, authorization code + PKCE + nonce, ID token checks, email-domain binding,
// just-in-time membership, sessions scoped to the organization, and "SSO required".

let t: TestApp;
let idp: OAuthServer;
beforeAll(async () => {
  // A login "unverified.x@acme.test" stands for an address the provider has not verified.
  idp = await startOAuthServer({
    redirectUri: "http://coffer.test/auth/sso/callback",
    claims: (login) => ({
      email: login.replace(/^unverified\./, ""),
      email_verified: !login.startsWith("unverified."),
      name: `Person ${login.split("@")[0]}`,
    }),
  });
  t = await startTestApp({
    rateLimits: { signInsPerMinute: 1000, resolutionsPerMinute: 1200 },
  });
});
afterAll(async () => {
  await t?.close();
  await idp?.close();
});

const ERR = `__typename ... on Error { code message } ... on ValidationError { issues { path message } }`;
const CONFIGURE = `mutation($i: ConfigureSingleSignOnInput!) { configureSingleSignOn(input: $i) { ${ERR} ... on MutationConfigureSingleSignOnSuccess { data { singleSignOn { issuer clientId emailDomains defaultRole required organizationSlug } } } } }`;
const START = `mutation($s: String!) { startSingleSignOn(organizationSlug: $s) { ${ERR} ... on MutationStartSingleSignOnSuccess { data { authorizationUrl } } } }`;
const COMPLETE = `mutation($q: String!) { completeSingleSignOn(callbackQuery: $q) { ${ERR} ... on MutationCompleteSingleSignOnSuccess { data { id name } } } }`;
const VIEWER = `{ viewer { user { email } organizations { id viewerRole } } }`;

type Tenant = Awaited<ReturnType<TestApp["createTenant"]>>;

/** A password account with this address, signed in. */
async function userWithEmail(email: string) {
  const user = await t.createUser(email);
  return { ...user, session: await t.signIn(email, user.password) };
}

async function slugOf(tenant: Tenant) {
  return (
    await t.gql(
      `query($id: ID!) { organization(id: $id) { slug } }`,
      { id: tenant.organizationId },
      tenant.session,
    )
  ).data.organization.slug as string;
}

async function configure(tenant: Tenant, extra: Record<string, unknown> = {}, auth?: Auth) {
  return (
    await t.gql(
      CONFIGURE,
      {
        i: {
          organizationId: tenant.organizationId,
          issuer: idp.issuer,
          clientId: idp.client.clientId,
          clientSecret: idp.client.clientSecret,
          emailDomains: ["Acme.test"],
          defaultRole: "MEMBER",
          required: false,
          ...extra,
        },
      },
      auth ?? tenant.session,
    )
  ).data.configureSingleSignOn;
}

/** The browser's round trip: start, the provider's login, the callback page's completion. */
async function signInWithSso(slug: string, login: string) {
  const started = await t.gql(START, { s: slug });
  const ssoCookie = started.headers.get("set-cookie")!.split(";")[0]!;
  const callback = await idp.approve(started.data.startSingleSignOn.data.authorizationUrl, {
    login,
  });
  const query = new URL(callback).search;
  const completed = await t.gql(COMPLETE, { q: query }, { cookie: ssoCookie });
  const session = completed.headers
    .get("set-cookie")
    ?.split(/,(?=\s*coffer_)/)
    .map((c) => c.trim().split(";")[0]!)
    .find((c) => c.startsWith("coffer_session=") && c !== "coffer_session=");
  return {
    result: completed.data.completeSingleSignOn,
    session: session ? ({ cookie: session } as Auth) : undefined,
    query,
    ssoCookie,
  };
}

const ssoEvents = (tenant: Tenant) =>
  t.database.admin<{ type: string; data: Record<string, unknown> }>(
    `SELECT type, data FROM events WHERE stream_id = 'sso-' || (SELECT organization_id::text FROM org_members m JOIN users u ON u.id = m.user_id WHERE u.email = $1 LIMIT 1) ORDER BY position`,
    [tenant.owner.email],
  );

describe("single sign-on", () => {
  it("is set up by an admin from the issuer's discovery; the client secret never comes back", async () => {
    const tenant = await t.createTenant();
    const member = await t.addMember(tenant, "MEMBER");
    expect((await configure(tenant, {}, member.session)).__typename).toBe("ForbiddenError");
    expect(await configure(tenant, { issuer: "https://10.0.0.7" })).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "issuer" }],
    });
    expect(await configure(tenant, { clientSecret: null })).toMatchObject({
      issues: [{ path: "clientSecret", message: "must not be empty" }],
    });
    expect(await configure(tenant, { emailDomains: [] })).toMatchObject({
      __typename: "ValidationError",
    });
    const done = await configure(tenant);
    expect(done.data.singleSignOn).toEqual({
      issuer: idp.issuer,
      clientId: idp.client.clientId,
      emailDomains: ["acme.test"],
      defaultRole: "MEMBER",
      required: false,
      organizationSlug: await slugOf(tenant),
    });
    // Changed later without the secret: the stored one is kept (sign-in still works below).
    expect(
      (await configure(tenant, { clientSecret: undefined, defaultRole: "ADMIN" })).data,
    ).toMatchObject({ singleSignOn: { defaultRole: "ADMIN" } });
    const texts = await t.database.admin<{ text: string }>(
      `SELECT data::text || metadata::text AS text FROM events`,
    );
    expect(texts.filter((r) => r.text.includes(idp.client.clientSecret))).toEqual([]);
    expect(t.logs.join("\n")).not.toContain(idp.client.clientSecret);
    expect(t.responses.filter((r) => r.includes(idp.client.clientSecret))).toEqual([]);
    expect((await ssoEvents(tenant)).map((e) => e.type)).toEqual([
      "SsoConfigured",
      "SsoConfigured",
    ]);
    const { result, session } = await signInWithSso(await slugOf(tenant), "first@acme.test");
    expect(result.__typename).toBe("MutationCompleteSingleSignOnSuccess");
    expect((await t.gql(VIEWER, {}, session)).data.viewer.organizations).toEqual([
      { id: tenant.organizationId, viewerRole: "ADMIN" },
    ]);
  });

  it("signs someone new in just in time, as a member without a password", async () => {
    const tenant = await t.createTenant();
    await configure(tenant);
    const before = (
      await t.database.admin<{ p: number }>(`SELECT max(position)::int AS p FROM events`)
    )[0]!.p;
    const { result, session } = await signInWithSso(await slugOf(tenant), "newcomer@acme.test");
    expect(result).toMatchObject({ data: { id: tenant.organizationId } });
    expect((await t.gql(VIEWER, {}, session)).data.viewer).toEqual({
      user: { email: "newcomer@acme.test" },
      organizations: [{ id: tenant.organizationId, viewerRole: "MEMBER" }],
    });
    const events = await t.database.admin<{ type: string; data: { method?: string } }>(
      `SELECT type, data FROM events WHERE position > $1 ORDER BY position`,
      [before],
    );
    expect(events.map((e) => e.type)).toEqual(["UserRegistered", "OrgMemberAdded", "UserSignedIn"]);
    expect(events[2]!.data.method).toBe("sso");
    // No password was set: none signs in.
    const password = await t.gql(
      `mutation($i: SignInInput!) { signIn(input: $i) { __typename } }`,
      { i: { email: "newcomer@acme.test", password: "any password at all" } },
    );
    expect(password.data.signIn.__typename).toBe("UnauthenticatedError");
    // Signing in again finds the same account through the provider's subject.
    const again = await signInWithSso(await slugOf(tenant), "newcomer@acme.test");
    expect(again.result.__typename).toBe("MutationCompleteSingleSignOnSuccess");
    expect(
      await t.database.admin(`SELECT id FROM users WHERE email = 'newcomer@acme.test'`),
    ).toHaveLength(1);
  });

  it("refuses other domains and unverified addresses, recorded in the organization's log", async () => {
    const tenant = await t.createTenant();
    await configure(tenant);
    const slug = await slugOf(tenant);
    const other = await signInWithSso(slug, "intruder@evil.test");
    expect(other.result).toMatchObject({
      __typename: "UnauthenticatedError",
      message: "intruder@evil.test is not an address of this organization's domains",
    });
    expect(other.session).toBeUndefined();
    const unverified = await signInWithSso(slug, "unverified.someone@acme.test");
    expect(unverified.result).toMatchObject({
      message: "The identity provider has not verified your email address",
    });
    expect(
      await t.database.admin(
        `SELECT 1 FROM users WHERE email IN ('intruder@evil.test', 'someone@acme.test')`,
      ),
    ).toEqual([]);
    expect((await ssoEvents(tenant)).slice(1)).toEqual([
      { type: "SsoSignInRefused", data: { reason: "domain", email: "intruder@evil.test" } },
      {
        type: "SsoSignInRefused",
        data: { reason: "email_unverified", email: "someone@acme.test" },
      },
    ]);
  });

  it("takes each callback once, from the browser that started it", async () => {
    const tenant = await t.createTenant();
    await configure(tenant);
    const slug = await slugOf(tenant);
    // Another browser (no cookie, or another sign-in's cookie) cannot finish this one.
    const started = await t.gql(START, { s: slug });
    const mine = started.headers.get("set-cookie")!.split(";")[0]!;
    const theirs = (await t.gql(START, { s: slug })).headers.get("set-cookie")!.split(";")[0]!;
    const callback = await idp.approve(started.data.startSingleSignOn.data.authorizationUrl, {
      login: "once@acme.test",
    });
    const query = new URL(callback).search;
    const refused =
      "This sign-in is unknown, expired, already used, or was started in another browser; start again";
    expect((await t.gql(COMPLETE, { q: query })).data.completeSingleSignOn.message).toBe(refused);
    expect(
      (await t.gql(COMPLETE, { q: query }, { cookie: theirs })).data.completeSingleSignOn.message,
    ).toBe(refused);
    expect(
      (await t.gql(COMPLETE, { q: query }, { cookie: mine })).data.completeSingleSignOn,
    ).toMatchObject({ __typename: "MutationCompleteSingleSignOnSuccess" });
    expect(
      (await t.gql(COMPLETE, { q: query }, { cookie: mine })).data.completeSingleSignOn.message,
    ).toBe(refused);
    expect(
      (await t.gql(COMPLETE, { q: "?code=forged&state=forged" }, { cookie: mine })).data
        .completeSingleSignOn.message,
    ).toBe(refused);
    // An organization without single sign-on looks like a missing one.
    const plain = await t.createTenant();
    expect((await t.gql(START, { s: await slugOf(plain) })).data.startSingleSignOn).toEqual(
      (await t.gql(START, { s: "no-such-organization" })).data.startSingleSignOn,
    );
  });

  it("gives a session that acts in its organization only, with an invitation's role", async () => {
    const a = await t.createTenant();
    const b = await t.createTenant();
    await configure(a);
    // A password user, member of B, invited to A as ADMIN, signs in to A with SSO.
    const { session: password } = await userWithEmail("both@acme.test");
    await t.joinByInvitation(b, "both@acme.test", "MEMBER", password);
    await t.gql(
      `mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { __typename } }`,
      { i: { organizationId: a.organizationId, email: "both@acme.test", role: "ADMIN" } },
      a.session,
    );
    const { session } = await signInWithSso(await slugOf(a), "both@acme.test");
    expect((await t.gql(VIEWER, {}, session)).data.viewer.organizations).toEqual([
      { id: a.organizationId, viewerRole: "ADMIN" },
    ]);
    const readB = `query($id: ID!) { organization(id: $id) { id } }`;
    expect((await t.gql(readB, { id: b.organizationId }, session)).data.organization).toBeNull();
    expect((await t.gql(readB, { id: b.organizationId }, password)).data.organization).toEqual({
      id: b.organizationId,
    });
    expect(
      await t.database.admin(
        `SELECT status FROM invitations WHERE email = 'both@acme.test' AND organization_id = $1`,
        [a.organizationId.length > 36 ? atob(a.organizationId).split(":")[1] : a.organizationId],
      ),
    ).toEqual([{ status: "ACCEPTED" }]);
  });

  it("when required, lets members act only from single sign-on sessions (OWNERs excepted)", async () => {
    const tenant = await t.createTenant();
    const { session: password } = await userWithEmail("required@acme.test");
    await t.joinByInvitation(tenant, "required@acme.test", "ADMIN", password);
    await configure(tenant, { required: true });
    const read = `query($id: ID!) { workspace(id: $id) { id } }`;
    const refused = await t.gql(read, { id: tenant.workspaceId }, password);
    expect(refused.errors?.[0]?.message).toBe(
      "This organization requires single sign-on: sign out, then sign in with your organization's identity provider",
    );
    expect((await t.gql(read, { id: tenant.workspaceId }, tenant.session)).data.workspace).toEqual({
      id: tenant.workspaceId,
    });
    const { session } = await signInWithSso(await slugOf(tenant), "required@acme.test");
    expect((await t.gql(read, { id: tenant.workspaceId }, session)).data.workspace).toEqual({
      id: tenant.workspaceId,
    });
    const removed = await t.gql(
      `mutation($o: ID!) { removeSingleSignOn(organizationId: $o) { ${ERR} ... on MutationRemoveSingleSignOnSuccess { data { singleSignOn { issuer } } } } }`,
      { o: tenant.organizationId },
      tenant.session,
    );
    expect(removed.data.removeSingleSignOn).toMatchObject({ data: { singleSignOn: null } });
    expect((await t.gql(read, { id: tenant.workspaceId }, password)).data.workspace).toEqual({
      id: tenant.workspaceId,
    });
  });
});
