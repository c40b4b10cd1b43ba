import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Auth, type TestApp } from "./testkit/testApp.ts";

// Two-factor sign-in (TOTP, RFC 6238) with single-use recovery codes, and organizations
// that require it. The test owns the clock: codes are made with otplib for the app's time.

let now = Date.parse("2026-12-07T12:00:00Z");
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    clock: () => new Date(now),
    rateLimits: { signInsPerMinute: 20, resolutionsPerMinute: 1200 },
  });
});
afterAll(() => t.close());

const ERR = `__typename ... on Error { code message } ... on ValidationError { issues { path message } }`;
const SIGN_IN = `mutation($i: SignInInput!) { signIn(input: $i) { __typename ... on Error { code message } ... on MutationSignInSuccess { data { email } } } }`;
const BEGIN = `mutation($i: BeginTotpEnrollmentInput!) { beginTotpEnrollment(input: $i) { ${ERR} ... on MutationBeginTotpEnrollmentSuccess { data { secret otpauthUri } } } }`;
const CONFIRM = `mutation($i: TotpCodeInput!) { confirmTotpEnrollment(input: $i) { ${ERR} ... on MutationConfirmTotpEnrollmentSuccess { data { codes } } } }`;
const REGENERATE = `mutation($i: TotpCodeInput!) { regenerateRecoveryCodes(input: $i) { ${ERR} ... on MutationRegenerateRecoveryCodesSuccess { data { codes } } } }`;
const DISABLE = `mutation($i: DisableTotpInput!) { disableTotp(input: $i) { ${ERR} ... on MutationDisableTotpSuccess { data } } }`;
const REQUIRE = `mutation($i: SetOrganizationMfaRequirementInput!) { setOrganizationMfaRequirement(input: $i) { ${ERR} ... on MutationSetOrganizationMfaRequirementSuccess { data { requireMfa } } } }`;
const STATUS = `{ viewer { sessionMfaVerified mfa { enabled recoveryCodesRemaining } } }`;
const ORG = `query($id: ID!) { organization(id: $id) { name requireMfa } }`;

const codeAt = (secret: string, offsetSeconds = 0) =>
  generate({ secret, epoch: Math.floor(now / 1000) + offsetSeconds });
/** Moves the clock to the next 30-second step (a code is good once). */
const nextStep = () => (now += 30_000);

async function signIn(email: string, password: string, mfaCode?: string) {
  const result = await t.gql(SIGN_IN, { i: { email, password, ...(mfaCode ? { mfaCode } : {}) } });
  const cookie = result.headers.get("set-cookie")?.split(";")[0];
  return { payload: result.data.signIn, auth: cookie ? ({ cookie } as Auth) : undefined };
}

async function enroll(session: Auth, password: string) {
  const begun = (await t.gql(BEGIN, { i: { password } }, session)).data.beginTotpEnrollment;
  expect(begun.__typename).toBe("MutationBeginTotpEnrollmentSuccess");
  const { secret } = begun.data;
  const confirmed = (await t.gql(CONFIRM, { i: { code: await codeAt(secret) } }, session)).data
    .confirmTotpEnrollment;
  expect(confirmed.__typename).toBe("MutationConfirmTotpEnrollmentSuccess");
  nextStep();
  return { secret, codes: confirmed.data.codes as string[] };
}

const userEvents = async (userId: string) =>
  t.database.admin<{ type: string; data: Record<string, unknown>; metadata: { ip?: string } }>(
    `SELECT type, data, metadata FROM events WHERE stream_id = $1 ORDER BY position`,
    [`user-${userId}`],
  );

describe("TOTP enrollment", () => {
  it("needs the password, shows the seed once, and turns on only with the app's code", async () => {
    const user = await t.createUser();
    const session = await t.signIn(user.email, user.password);
    const wrongPassword = await t.gql(BEGIN, { i: { password: "not-it" } }, session);
    expect(wrongPassword.data.beginTotpEnrollment.__typename).toBe("UnauthenticatedError");

    const begun = (await t.gql(BEGIN, { i: { password: user.password } }, session)).data
      .beginTotpEnrollment;
    const { secret, otpauthUri } = begun.data;
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Coffer:/);
    expect(otpauthUri).toContain(`secret=${secret}`);
    // Not on yet: pending until a code proves the app has the seed.
    expect((await t.gql(STATUS, {}, session)).data.viewer.mfa.enabled).toBe(false);

    const wrong = (await t.gql(CONFIRM, { i: { code: "000000" } }, session)).data
      .confirmTotpEnrollment;
    expect(wrong.__typename).toBe("ValidationError");
    expect(wrong.issues[0].path).toBe("code");

    const confirmed = (await t.gql(CONFIRM, { i: { code: await codeAt(secret) } }, session)).data
      .confirmTotpEnrollment;
    expect(confirmed.data.codes).toHaveLength(10);
    expect(new Set(confirmed.data.codes).size).toBe(10);
    expect((await t.gql(STATUS, {}, session)).data.viewer).toEqual({
      sessionMfaVerified: true,
      mfa: { enabled: true, recoveryCodesRemaining: 10 },
    });

    // The seed and the codes are nowhere in the database or the log; the event has counts.
    const rows = await t.database.admin<{ row: string }>(
      `SELECT row_to_json(u)::text AS row FROM users u WHERE id = $1
       UNION ALL SELECT row_to_json(r)::text FROM recovery_codes r WHERE user_id = $1
       UNION ALL SELECT row_to_json(e)::text FROM events e WHERE stream_id = $2`,
      [user.userId, `user-${user.userId}`],
    );
    const text = rows.map((r) => r.row).join("\n");
    for (const hidden of [secret, ...confirmed.data.codes]) expect(text).not.toContain(hidden);
    for (const hidden of confirmed.data.codes) expect(t.logs.join("\n")).not.toContain(hidden);
    expect((await userEvents(user.userId)).map((e) => e.type)).toContain("UserMfaEnabled");
    // Twice is refused.
    expect(
      (await t.gql(BEGIN, { i: { password: user.password } }, session)).data.beginTotpEnrollment
        .__typename,
    ).toBe("ConflictError");
  });
});

describe("signing in with two-factor sign-in on", () => {
  it("asks for the code, refuses a wrong or replayed one, and audits each failure", async () => {
    const user = await t.createUser();
    const { secret } = await enroll(await t.signIn(user.email, user.password), user.password);
    const sessionsBefore = await t.database.admin(`SELECT id FROM sessions WHERE user_id = $1`, [
      user.userId,
    ]);

    const passwordOnly = await signIn(user.email, user.password);
    expect(passwordOnly.payload.__typename).toBe("MfaRequiredError");
    expect(passwordOnly.payload.code).toBe("MFA_REQUIRED");
    expect(passwordOnly.auth).toBeUndefined();

    const wrong = await signIn(user.email, user.password, "123456");
    expect(wrong.payload.__typename).toBe("UnauthenticatedError");
    expect(wrong.auth).toBeUndefined();
    // A code does not rescue a wrong password.
    expect((await signIn(user.email, "wrong", await codeAt(secret))).payload.__typename).toBe(
      "UnauthenticatedError",
    );
    expect(
      await t.database.admin(`SELECT id FROM sessions WHERE user_id = $1`, [user.userId]),
    ).toHaveLength(sessionsBefore.length);

    const code = await codeAt(secret);
    const good = await signIn(user.email, user.password, code);
    expect(good.payload.__typename).toBe("MutationSignInSuccess");
    expect((await t.gql(STATUS, {}, good.auth)).data.viewer.sessionMfaVerified).toBe(true);
    // The same code again, within its 30 seconds: refused.
    expect((await signIn(user.email, user.password, code)).payload.__typename).toBe(
      "UnauthenticatedError",
    );
    // A code of the previous step is still taken (clock drift), if not used before.
    nextStep();
    expect(
      (await signIn(user.email, user.password, await codeAt(secret, -30))).payload.__typename,
    ).toBe("UnauthenticatedError"); // the previous step's code was the one just used
    expect((await signIn(user.email, user.password, await codeAt(secret))).payload.__typename).toBe(
      "MutationSignInSuccess",
    );

    const failures = (await userEvents(user.userId)).filter((e) => e.type === "UserSignInFailed");
    expect(failures.map((e) => e.data.reason)).toEqual(["mfa", "password", "mfa", "mfa"]);
    nextStep();
  });

  it("takes each recovery code once, and regenerating them retires the old ones", async () => {
    const user = await t.createUser();
    const session = await t.signIn(user.email, user.password);
    const { secret, codes } = await enroll(session, user.password);
    const recovered = await signIn(user.email, user.password, codes[0]!.toUpperCase());
    expect(recovered.payload.__typename).toBe("MutationSignInSuccess");
    expect((await signIn(user.email, user.password, codes[0])).payload.__typename).toBe(
      "UnauthenticatedError",
    );
    expect((await t.gql(STATUS, {}, session)).data.viewer.mfa.recoveryCodesRemaining).toBe(9);
    const used = (await userEvents(user.userId)).find((e) => e.type === "UserRecoveryCodeUsed");
    expect(used?.data).toEqual({ userId: user.userId, remaining: 9 });

    const fresh = (await t.gql(REGENERATE, { i: { code: await codeAt(secret) } }, session)).data
      .regenerateRecoveryCodes;
    expect(fresh.data.codes).toHaveLength(10);
    nextStep();
    expect((await signIn(user.email, user.password, codes[1])).payload.__typename).toBe(
      "UnauthenticatedError",
    );
    expect((await signIn(user.email, user.password, fresh.data.codes[1])).payload.__typename).toBe(
      "MutationSignInSuccess",
    );
  });

  it("limits code attempts per user, from whatever address they come", async () => {
    const user = await t.createUser();
    await enroll(await t.signIn(user.email, user.password), user.password);
    const attempt = (i: number) =>
      t.app.services.sessions
        .signIn(user.email, user.password, { requestId: `r${i}`, ip: `203.0.113.${i}` }, "000000")
        .then(
          () => "signed in",
          (error: Error) => error.name,
        );
    const outcomes: string[] = [];
    for (let i = 0; i < 22; i++) outcomes.push(await attempt(i));
    expect(outcomes.slice(0, 20).every((o) => o === "UnauthenticatedError")).toBe(true);
    expect(outcomes.slice(20)).toEqual(["RateLimitedError", "RateLimitedError"]);
    const failed = (await userEvents(user.userId)).filter((e) => e.type === "UserSignInFailed");
    expect(failed).toHaveLength(20);
    expect(failed[0]!.metadata.ip).toBe("203.0.113.0");
  });

  it("turns off with the password and a code, and sign-in needs no code again", async () => {
    const user = await t.createUser();
    const session = await t.signIn(user.email, user.password);
    const { secret } = await enroll(session, user.password);
    const noCode = (
      await t.gql(DISABLE, { i: { password: user.password, code: "000000" } }, session)
    ).data.disableTotp;
    expect(noCode.__typename).toBe("ValidationError");
    const off = (
      await t.gql(DISABLE, { i: { password: user.password, code: await codeAt(secret) } }, session)
    ).data.disableTotp;
    expect(off.__typename).toBe("MutationDisableTotpSuccess");
    expect((await signIn(user.email, user.password)).payload.__typename).toBe(
      "MutationSignInSuccess",
    );
    expect((await userEvents(user.userId)).map((e) => e.type)).toContain("UserMfaDisabled");
    nextStep();
  });
});

describe("organizations that require two-factor sign-in", () => {
  it("lets members act only from two-factor sessions; API tokens are not sessions", async () => {
    const tenant = await t.createTenant();
    const member = await t.addMember(tenant, "ADMIN");
    const { token } = await t.issueToken(
      tenant.session,
      { organizationId: tenant.organizationId },
      ["AUDIT_READ"],
    );
    // Only from a two-factor session of one's own: nobody locks themselves out.
    const early = (
      await t.gql(
        REQUIRE,
        { i: { organizationId: tenant.organizationId, required: true } },
        tenant.session,
      )
    ).data.setOrganizationMfaRequirement;
    expect(early.__typename).toBe("ForbiddenError");

    const owner = tenant.owner;
    const { secret } = await enroll(tenant.session, owner.password);
    const strong = await signIn(owner.email, owner.password, await codeAt(secret));
    const on = (
      await t.gql(
        REQUIRE,
        { i: { organizationId: tenant.organizationId, required: true } },
        strong.auth,
      )
    ).data.setOrganizationMfaRequirement;
    expect(on.data.requireMfa).toBe(true);
    nextStep();

    // The member's password-only session is told why, on every object of the organization.
    const refused = await t.gql(ORG, { id: tenant.organizationId }, member.session);
    expect(refused.errors?.[0]?.message).toMatch(/requires two-factor sign-in/);
    const workspace = await t.gql(
      `query($id: ID!) { workspace(id: $id) { name } }`,
      { id: tenant.workspaceId },
      member.session,
    );
    expect(workspace.errors?.[0]?.message).toMatch(/requires two-factor sign-in/);
    // The session that confirmed the enrollment proved a code: it counts as two-factor.
    expect((await t.gql(STATUS, {}, tenant.session)).data.viewer.sessionMfaVerified).toBe(true);
    expect(
      (await t.gql(ORG, { id: tenant.organizationId }, strong.auth)).data.organization,
    ).toEqual({ name: expect.any(String), requireMfa: true });
    // A platform's token is not a console session: unaffected.
    const audit = await t.gql(
      `query($id: ID!) { auditEvents(organizationId: $id, first: 1) { edges { node { type } } } }`,
      { id: tenant.organizationId },
      { token },
    );
    expect(audit.errors).toBeUndefined();

    // Once the member has it too, signing in with a code opens the organization again.
    const memberSecret = (await enroll(member.session, member.password)).secret;
    const memberStrong = await signIn(member.email, member.password, await codeAt(memberSecret));
    expect(
      (await t.gql(ORG, { id: tenant.organizationId }, memberStrong.auth)).data.organization
        .requireMfa,
    ).toBe(true);

    const events = await t.database.admin<{ type: string; data: unknown }>(
      `SELECT type, data FROM events WHERE type = 'OrganizationMfaRequirementChanged' AND stream_id = $1`,
      [`organization-${Buffer.from(tenant.organizationId, "base64").toString().split(":")[1]}`],
    );
    expect(events).toEqual([
      { type: "OrganizationMfaRequirementChanged", data: { required: true } },
    ]);
    nextStep();
  });
});
