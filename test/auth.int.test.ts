import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const SIGN_IN = `mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on MutationSignInSuccess { data { email } } ... on Error { message } } }`;

describe("console sessions", () => {
  it("sets an httpOnly, SameSite=Strict cookie and stores only a hash of it", async () => {
    const user = await t.createUser("Ada@Example.test");
    const result = await t.gql(SIGN_IN, {
      input: { email: "ada@example.test", password: user.password },
    });
    expect(result.data.signIn).toEqual({
      __typename: "MutationSignInSuccess",
      data: { email: "ada@example.test" },
    });
    const cookie = result.headers.get("set-cookie")!;
    expect(cookie).toMatch(
      /^coffer_session=coffer_s_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Expires=/,
    );
    const value = cookie.split(";")[0]!.split("=")[1]!;
    const rows = await t.database.admin(`SELECT token_hash FROM sessions`);
    expect(JSON.stringify(rows)).not.toContain(value);
    expect(rows.length).toBeGreaterThan(0);
  });

  it("answers a wrong password and an unknown email the same way", async () => {
    const user = await t.createUser();
    const wrong = await t.gql(SIGN_IN, {
      input: { email: user.email, password: "not-the-password" },
    });
    const unknown = await t.gql(SIGN_IN, {
      input: { email: "nobody@example.test", password: "not-the-password" },
    });
    expect(wrong.data).toEqual(unknown.data);
    expect(wrong.data.signIn).toEqual({
      __typename: "UnauthenticatedError",
      message: "Email or password is incorrect",
    });
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("refuses the cookie on cross-site requests: a foreign Origin or a non-JSON POST", async () => {
    const user = await t.createUser();
    const { cookie } = await t.signIn(user.email, user.password);
    const viewer = `{ viewer { kind } }`;
    expect((await t.gql(viewer, {}, { cookie })).data.viewer.kind).toBe("USER");
    expect(
      (await t.gql(viewer, {}, { cookie, headers: { origin: "https://evil.example" } })).errors?.[0]
        ?.extensions?.code,
    ).toBe("UNAUTHENTICATED");
    expect(
      (await t.gql(viewer, {}, { cookie, headers: { origin: "http://coffer.test" } })).data.viewer
        .kind,
    ).toBe("USER");
    const form = await t.app.yoga.fetch("http://coffer.test/graphql", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "query=mutation%20%7B%20signOut%20%7D",
    });
    expect(await form.text()).not.toContain('"signOut":true');
  });

  it("changing the password ends the user's other sessions and keeps the current one", async () => {
    const user = await t.createUser();
    const current = await t.signIn(user.email, user.password);
    const other = await t.signIn(user.email, user.password);
    const change = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { __typename ... on Error { message } } }`;
    const tooShort = await t.gql(
      change,
      { input: { currentPassword: user.password, newPassword: "short" } },
      current,
    );
    expect(tooShort.data.changePassword.__typename).toBe("ValidationError");
    const wrong = await t.gql(
      change,
      { input: { currentPassword: "wrong-password", newPassword: "a-long-enough-password" } },
      current,
    );
    expect(wrong.data.changePassword.__typename).toBe("UnauthenticatedError");
    const ok = await t.gql(
      change,
      { input: { currentPassword: user.password, newPassword: "a-long-enough-password" } },
      current,
    );
    expect(ok.data.changePassword.__typename).toBe("MutationChangePasswordSuccess");
    expect((await t.gql(`{ viewer { kind } }`, {}, current)).data.viewer.kind).toBe("USER");
    expect((await t.gql(`{ viewer { kind } }`, {}, other)).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );
    await t.signIn(user.email, "a-long-enough-password");
  });
});

describe("API tokens", () => {
  it("are shown once, stored as SHA-256, and record when they were last used", async () => {
    const tenant = await t.createTenant();
    const issued = await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
      "SECRETS_READ",
      "SECRETS_RESOLVE",
    ]);
    expect(issued.token).toMatch(/^coffer_pat_[A-Za-z0-9_-]{43}$/);
    const stored = await t.database.admin(`SELECT * FROM api_tokens`);
    expect(JSON.stringify(stored)).not.toContain(issued.token);
    const events = await t.database.admin(
      `SELECT data::text AS d FROM events WHERE type = 'ApiTokenIssued'`,
    );
    expect(events.map((e) => e.d).join()).not.toContain(issued.token.slice(12));

    const list = `query($id: ID!) { workspace(id: $id) { apiTokens { edges { node { id name prefix permissions status lastUsedAt } } } } }`;
    const before = (await t.gql(list, { id: tenant.workspaceId }, tenant.session)).data.workspace
      .apiTokens.edges[0].node;
    expect(before).toMatchObject({
      prefix: issued.token.slice(0, 17),
      permissions: ["SECRETS_READ", "SECRETS_RESOLVE"],
      status: "ACTIVE",
      lastUsedAt: null,
    });
    const asToken = await t.gql(
      `{ viewer { kind tokenPermissions } }`,
      {},
      { token: issued.token },
    );
    expect(asToken.data.viewer).toEqual({
      kind: "API_TOKEN",
      tokenPermissions: ["SECRETS_READ", "SECRETS_RESOLVE"],
    });
    const after = (await t.gql(list, { id: tenant.workspaceId }, tenant.session)).data.workspace
      .apiTokens.edges[0].node;
    expect(new Date(after.lastUsedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    // No field of the schema can return a token or its hash after issuing.
    const fields = await t.gql(
      `{ __type(name: "ApiToken") { fields { name } } }`,
      {},
      tenant.session,
    );
    expect(fields.data.__type.fields.map((f: { name: string }) => f.name)).not.toEqual(
      expect.arrayContaining(["token"]),
    );
    expect(JSON.stringify(fields.data)).not.toMatch(/hash/i);
  });

  it("cannot be issued by a token, nor without permissions or with a past expiry", async () => {
    const tenant = await t.createTenant();
    const admin = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "ADMIN",
    ]);
    const issue = `mutation($i: IssueApiTokenInput!) { issueApiToken(input: $i) { __typename ... on Error { message } ... on ValidationError { issues { path message } } } }`;
    expect(
      (
        await t.gql(
          issue,
          { i: { organizationId: tenant.organizationId, name: "x", permissions: ["ADMIN"] } },
          { token: admin.token },
        )
      ).errors?.[0]?.extensions?.code,
    ).toBe("FORBIDDEN");
    const none = await t.gql(
      issue,
      { i: { organizationId: tenant.organizationId, name: "x", permissions: [] } },
      tenant.session,
    );
    expect(none.data.issueApiToken).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "permissions" }],
    });
    const past = await t.gql(
      issue,
      {
        i: {
          organizationId: tenant.organizationId,
          name: "x",
          permissions: ["AUDIT_READ"],
          expiresAt: "2000-01-01T00:00:00Z",
        },
      },
      tenant.session,
    );
    expect(past.data.issueApiToken).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "expiresAt" }],
    });
    const both = await t.gql(
      issue,
      {
        i: {
          organizationId: tenant.organizationId,
          workspaceId: tenant.workspaceId,
          name: "x",
          permissions: ["AUDIT_READ"],
        },
      },
      tenant.session,
    );
    expect(both.data.issueApiToken.__typename).toBe("ValidationError");
  });

  it("refuses unknown and malformed bearer tokens without revealing why", async () => {
    for (const authorization of ["Bearer coffer_pat_nope", "Bearer something", "Basic abc"]) {
      const result = await t.gql(`{ viewer { kind } }`, {}, { headers: { authorization } });
      expect(result.errors?.[0]).toMatchObject({
        message: "Sign in or send a valid API token",
        extensions: { code: "UNAUTHENTICATED" },
      });
    }
  });
});

describe("logs", () => {
  it("never contain a password, a session cookie or an API token this file used", async () => {
    const tenant = await t.createTenant();
    const issued = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "AUDIT_READ",
    ]);
    await t.gql(`{ viewer { kind } }`, {}, { token: issued.token });
    const logs = t.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      issued.token,
      tenant.session.cookie.split("=")[1]!,
      tenant.owner.password,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
