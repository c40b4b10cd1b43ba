import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChain } from "../server/src/eventstore/verifyChain.ts";
import { TransitUnavailableError } from "../server/src/transit/TransitError.ts";
import { asInput, secretOps, type Values } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";
import { interceptTransit } from "./testkit/interceptTransit.ts";

const fixture = (name: string) =>
  readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");

/** Every value this file stores: the final test scans everything for them. */
const stored = new Set<string>();
const remember = (values: Values) => {
  for (const v of Object.values(values)) stored.add(v.trim());
  return asInput(values);
};

let transitDown = false;
let t: TestApp;
let ops: ReturnType<typeof secretOps>;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;

beforeAll(async () => {
  t = await startTestApp({
    tuning: { keepVersions: 5 },
    // The real embedded transit, which these tests can switch off like an unreachable Vault.
    transit: (local) =>
      interceptTransit(local, () => {
        if (transitDown) throw new TransitUnavailableError("Vault is unavailable (test)");
      }),
  });
  ops = secretOps(t);
  tenant = await t.createTenant();
  for (const name of ["staging", "customer_acme"]) {
    await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: tenant.workspaceId, name } },
      tenant.session,
    );
  }
});
afterAll(() => t.close());

const eventsSince = async (position: string) =>
  (
    await t.database.admin<{ type: string; data: Record<string, unknown> }>(
      `SELECT type, data FROM events WHERE position > $1 ORDER BY position`,
      [position],
    )
  ).map((r) => r.type);
const head = async () =>
  (
    await t.database.admin<{ p: string }>(
      `SELECT coalesce(max(position), 0)::text AS p FROM events`,
    )
  )[0]!.p;
const decode = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;
const valuesOf = (secretGid: string, version: number) =>
  t.app.services.secrets.decryptVersion(
    { id: decode(secretGid), organizationId: decode(tenant.organizationId) },
    version,
  );

describe("the secret lifecycle through GraphQL", () => {
  it("create → list → update (merge) → rotate → restore → delete, each with its event", async () => {
    let mark = await head();
    const created = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "customer_acme",
      name: "github-pat",
      description: "CI token",
      values: remember({ TOKEN: "ghp_first_token_value_1", USER: "ci-bot-user-value" }),
    });
    expect(created.__typename).toBe("MutationCreateSecretSuccess");
    const secret = created.data.secret;
    expect(secret).toMatchObject({
      name: "github-pat",
      scope: "WORKSPACE",
      environment: "customer_acme",
      type: "CUSTOM",
      keyNames: ["TOKEN", "USER"],
      currentVersion: 1,
    });
    expect(secret.expressions).toEqual([
      "${{ SECRETS.github-pat.TOKEN }}",
      "${{ SECRETS.github-pat.USER }}",
    ]);
    expect(await eventsSince(mark)).toEqual(["SecretCreated"]);

    expect(
      await ops.list(tenant.session, tenant.workspaceId, { environment: "customer_acme" }),
    ).toEqual([
      {
        name: "github-pat",
        scope: "WORKSPACE",
        environment: "customer_acme",
        type: "CUSTOM",
        keyNames: ["TOKEN", "USER"],
        currentVersion: 1,
      },
    ]);
    expect(await ops.list(tenant.session, tenant.workspaceId, { environment: "default" })).toEqual(
      [],
    );

    mark = await head();
    const updated = await ops.update(tenant.session, {
      id: secret.id,
      set: remember({ TOKEN: "ghp_second_token_value_2", ORG: "acme-org-value" }),
      remove: ["USER"],
    });
    expect(updated.data.secret).toMatchObject({ keyNames: ["ORG", "TOKEN"], currentVersion: 2 });
    expect(await valuesOf(secret.id, 2)).toEqual({
      ORG: "acme-org-value",
      TOKEN: "ghp_second_token_value_2",
    });
    const untouched = await ops.update(tenant.session, {
      id: secret.id,
      set: remember({ EXTRA: "extra-value-3" }),
    });
    expect(await valuesOf(secret.id, 3)).toEqual({
      ORG: "acme-org-value",
      TOKEN: "ghp_second_token_value_2",
      EXTRA: "extra-value-3",
    });
    expect(untouched.data.secret.currentVersion).toBe(3);
    expect(await eventsSince(mark)).toEqual(["SecretUpdated", "SecretUpdated"]);

    mark = await head();
    const rotated = await ops.rotate(tenant.session, {
      id: secret.id,
      values: remember({ TOKEN: "ghp_rotated_token_value_4" }),
    });
    expect(rotated.data.secret).toMatchObject({
      name: "github-pat",
      keyNames: ["TOKEN"],
      currentVersion: 4,
    });
    expect(await eventsSince(mark)).toEqual(["SecretRotated"]);

    mark = await head();
    const restored = await ops.restore(tenant.session, { id: secret.id, version: 2 });
    expect(restored.data).toMatchObject({ currentVersion: 5, keyNames: ["ORG", "TOKEN"] });
    expect(restored.data.versions[0]).toMatchObject({
      version: 5,
      origin: "RESTORED",
      restoredFrom: 2,
    });
    expect(await valuesOf(secret.id, 5)).toEqual({
      ORG: "acme-org-value",
      TOKEN: "ghp_second_token_value_2",
    });
    expect(await eventsSince(mark)).toEqual(["SecretVersionRestored"]);

    mark = await head();
    expect((await ops.remove(tenant.session, secret.id)).data.name).toBe("github-pat");
    expect(await eventsSince(mark)).toEqual(["SecretDeleted"]);
    expect(await ops.get(tenant.session, secret.id)).toBeNull();
    expect(
      await ops.list(tenant.session, tenant.workspaceId, { environment: "customer_acme" }),
    ).toEqual([]);
    // History stays, and the name can be used again.
    expect(
      (
        await t.database.admin(
          `SELECT count(*)::int AS n FROM secret_versions WHERE secret_id = $1`,
          [decode(secret.id)],
        )
      )[0]!.n,
    ).toBe(5);
    const again = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "customer_acme",
      name: "github-pat",
      values: remember({ TOKEN: "ghp_recreated_value_6" }),
    });
    expect(again.__typename).toBe("MutationCreateSecretSuccess");
  });

  it("refuses a stale expectedVersion with a conflict", async () => {
    const { data } = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "pinned",
      values: remember({ K: "pinned-value-1" }),
    });
    await ops.rotate(tenant.session, {
      id: data.secret.id,
      values: remember({ K: "pinned-value-2" }),
    });
    const stale = await ops.update(tenant.session, {
      id: data.secret.id,
      set: remember({ K: "pinned-value-3" }),
      expectedVersion: 1,
    });
    expect(stale).toMatchObject({
      __typename: "ConflictError",
      message: "The secret changed meanwhile: it is at version 2, not 1",
    });
  });

  it("keeps a bounded number of versions' values; older ones stay as history", async () => {
    const { data } = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "retained",
      values: remember({ K: "retained-value-1" }),
    });
    for (let i = 2; i <= 7; i++)
      await ops.rotate(tenant.session, {
        id: data.secret.id,
        values: remember({ K: `retained-value-${i}` }),
      });
    const secret = await ops.get(tenant.session, data.secret.id);
    expect(
      secret.versions.map((v: { version: number; pruned: boolean }) => [v.version, v.pruned]),
    ).toEqual([
      [7, false],
      [6, false],
      [5, false],
      [4, false],
      [3, false],
      [2, true],
      [1, true],
    ]);
    expect(await ops.restore(tenant.session, { id: data.secret.id, version: 1 })).toMatchObject({
      __typename: "ValidationError",
      message: "Version 1 was pruned: its values are no longer kept",
    });
    expect((await ops.restore(tenant.session, { id: data.secret.id, version: 3 })).__typename).toBe(
      "MutationRestoreSecretVersionSuccess",
    );
  });
});

describe("validation", () => {
  it("stores an SSH key pasted without its trailing newline, normalised", async () => {
    const openssh = fixture("id_ed25519").trimEnd().replace(/\n/g, "\r\n");
    stored.add(openssh.split("\r\n")[1]!);
    const created = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "deploy-key",
      type: "SSH_KEY",
      values: asInput({ PRIVATE_KEY: openssh }),
    });
    expect(created.data.secret).toMatchObject({ type: "SSH_KEY", keyNames: ["PRIVATE_KEY"] });
    const values = await valuesOf(created.data.secret.id, 1);
    expect(values.PRIVATE_KEY).toBe(`${fixture("id_ed25519").trimEnd()}\n`);
  });

  it("rejects a broken PEM naming the key, not its content", async () => {
    const lines = fixture("client.key").split("\n");
    stored.add(lines[1]!);
    lines[2] = "BROKENBROKEN!!not-base64!!";
    const broken = lines.join("\n");
    const result = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "broken-key",
      type: "SSH_KEY",
      values: asInput({ PRIVATE_KEY: broken }),
    });
    expect(result).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "PRIVATE_KEY", message: "is not a valid PEM or OpenSSH private key" }],
    });
    expect(JSON.stringify(result)).not.toContain("BROKENBROKEN");
  });

  it("checks mTLS pairs and CA bundles with real parsers", async () => {
    const ok = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "client-cert",
      type: "MTLS",
      values: asInput({
        TLS_CERTIFICATE: fixture("client.pem"),
        TLS_PRIVATE_KEY: fixture("client.key"),
      }),
    });
    expect(ok.data.secret.keyNames).toEqual(["TLS_CERTIFICATE", "TLS_PRIVATE_KEY"]);
    const otherKey = (await import("node:crypto"))
      .generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const mismatch = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "client-cert-2",
      type: "MTLS",
      values: asInput({ TLS_CERTIFICATE: fixture("client.pem"), TLS_PRIVATE_KEY: otherKey }),
    });
    expect(mismatch).toMatchObject({
      __typename: "ValidationError",
      issues: [
        {
          path: "TLS_PRIVATE_KEY",
          message: "does not belong to the first certificate of TLS_CERTIFICATE",
        },
      ],
    });
    const bundle = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "corp-ca",
      type: "CA_CERT",
      values: asInput({ CA_CERTIFICATE: fixture("ca.pem") + fixture("client.pem") }),
    });
    expect(bundle.__typename).toBe("MutationCreateSecretSuccess");
    const wrongKeys = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "corp-ca-2",
      type: "CA_CERT",
      values: asInput({ CERT: fixture("ca.pem") }),
    });
    expect(wrongKeys.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      "CA_CERTIFICATE",
      "CERT",
    ]);
  });

  it("configures a template only as told: 0 creates, N replaces version N, a change meanwhile is refused", async () => {
    const where = { workspaceId: tenant.workspaceId, templateId: "slack", environment: "default" };
    const token = (n: number) => asInput({ SLACK_BOT_TOKEN: `xoxb-explicit-${n}` });
    const created = await ops.configure(tenant.session, {
      ...where,
      values: token(1),
      expectedVersion: 0,
    });
    expect(created.data.secret).toMatchObject({ name: "slack", currentVersion: 1 });
    // "Create" again: refused, saying what exists, and nothing is written.
    const again = await ops.configure(tenant.session, {
      ...where,
      values: token(2),
      expectedVersion: 0,
    });
    expect(again).toMatchObject({
      __typename: "ConflictError",
      message: "slack already exists in default (version 1): replace it with expectedVersion 1",
    });
    const replaced = await ops.configure(tenant.session, {
      ...where,
      values: token(2),
      expectedVersion: 1,
    });
    expect(replaced.data.secret.currentVersion).toBe(2);
    // Someone rotates in between: the replace that still expects version 2 is refused.
    await ops.configure(tenant.session, { ...where, values: token(3) });
    const stale = await ops.configure(tenant.session, {
      ...where,
      values: token(4),
      expectedVersion: 2,
    });
    expect(stale).toMatchObject({
      __typename: "ConflictError",
      message: "The secret changed meanwhile: it is at version 3, not 2",
    });
    const resolved = await t.gql(
      `query($id: ID!) { secret(id: $id) { currentVersion } }`,
      { id: created.data.secret.id },
      tenant.session,
    );
    expect(resolved.data.secret.currentVersion).toBe(3);
    // Deleted meanwhile: a replace does not bring it back.
    await ops.remove(tenant.session, created.data.secret.id);
    const gone = await ops.configure(tenant.session, {
      ...where,
      values: token(5),
      expectedVersion: 3,
    });
    expect(gone).toMatchObject({
      __typename: "ConflictError",
      message: "slack no longer exists in default; it was not created again",
    });
  });

  it("validates templates: every missing key at once, the aws at-least-one rule, ARNs, URLs, deprecations", async () => {
    const jira = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "jira",
      values: [],
    });
    expect(jira).toMatchObject({
      __typename: "ValidationError",
      issues: [
        { path: "values", message: "missing required keys: JIRA_USER_EMAIL, JIRA_API_TOKEN" },
      ],
    });
    const awsNone = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "aws",
      values: [],
    });
    expect(awsNone.issues.map((i: { message: string }) => i.message)).toContain(
      "give at least one of: AWS_ROLE_ARN, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_PROFILE",
    );
    const badArn = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "aws",
      values: remember({ AWS_ROLE_ARN: "arn:aws:iam::12345:user/bob" }),
    });
    expect(badArn.issues).toEqual([
      {
        path: "AWS_ROLE_ARN",
        message: "must be an IAM role ARN such as arn:aws:iam::123456789012:role/Name",
      },
    ]);
    const sql = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "sql",
      values: remember({ CONNECTION_URL: "not a url" }),
    });
    expect(sql.issues[0]).toMatchObject({ path: "CONNECTION_URL" });
    const goodSql = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "sql",
      values: remember({
        CONNECTION_URL: "postgresql+psycopg://user:s3cr3t-pass@db.example.com:5432/app",
      }),
    });
    expect(goodSql.data.secret).toMatchObject({
      name: "sql",
      template: { id: "sql" },
      keyNames: ["CONNECTION_URL"],
    });
    const aws = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "123456789012",
      templateId: "aws",
      values: remember({
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ListGuardDutyDetectors",
        AWS_REGION: "us-east-1",
        AWS_ROLE_SESSION_NAME: "legacy-session-name",
      }),
    });
    expect(aws).toMatchObject({ __typename: "ValidationError", issues: [{ path: "environment" }] }); // undeclared
    const awsOk = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "aws",
      values: remember({
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ListGuardDutyDetectors",
        AWS_REGION: "us-east-1",
        AWS_ROLE_SESSION_NAME: "legacy-session-name",
      }),
    });
    expect(awsOk.data.secret).toMatchObject({
      name: "aws",
      keyNames: ["AWS_REGION", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"],
    });
    expect(awsOk.data.warnings[0]).toMatch(/AWS_ROLE_SESSION_NAME is not used/);
    // Configuring again adds a version; keys not given stay.
    const again = await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "aws",
      values: remember({ AWS_REGION: "eu-west-1" }),
    });
    expect(again.data.secret).toMatchObject({
      currentVersion: 2,
      keyNames: ["AWS_REGION", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"],
    });
    const templates = await t.gql(
      `{ credentialTemplates { id secretName requiredKeys { name } atLeastOneOf deprecatedKeys } }`,
      {},
      tenant.session,
    );
    expect(
      templates.data.credentialTemplates.find((x: { id: string }) => x.id === "slack"),
    ).toEqual({
      id: "slack",
      secretName: "slack",
      requiredKeys: [{ name: "SLACK_BOT_TOKEN" }],
      atLeastOneOf: [],
      deprecatedKeys: [],
    });
  });

  it("rejects an undeclared environment listing the declared ones, bad names and keys, and duplicates", async () => {
    const env = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "stagin",
      name: "slack",
      values: remember({ SLACK_BOT_TOKEN: "xoxb-undeclared-env" }),
    });
    expect(env).toMatchObject({
      __typename: "ValidationError",
      issues: [
        {
          path: "environment",
          message:
            '"stagin" is not declared in this workspace; declared: customer_acme, default, staging',
        },
      ],
    });
    const name = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "Bad Name",
      values: remember({ K: "bad-name-value" }),
    });
    expect(name.__typename).toBe("ValidationError");
    const key = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "bad-key",
      values: [
        { key: "1BAD", value: "bad-key-value" },
        { key: "OK", value: "" },
      ],
    });
    expect(key.issues.map((i: { path: string }) => i.path)).toEqual(["values.1BAD", "values.OK"]);
    expect(JSON.stringify(key)).not.toContain("bad-key-value");
    const big = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "big",
      values: [{ key: "K", value: "x".repeat(70_000) }],
    });
    expect(big.issues[0].message).toBe("is larger than 64 KiB");
    const first = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "staging",
      name: "slack",
      values: remember({ SLACK_BOT_TOKEN: "xoxb-staging-1" }),
    });
    expect(first.__typename).toBe("MutationCreateSecretSuccess");
    const dup = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "staging",
      name: "slack",
      values: remember({ SLACK_BOT_TOKEN: "xoxb-staging-2" }),
    });
    expect(dup).toMatchObject({
      __typename: "ConflictError",
      message: 'A workspace secret named "slack" already exists in the "staging" environment',
    });
  });
});

describe("integrity and concurrency", () => {
  it("refuses a ciphertext copied onto another secret's row", async () => {
    const a = (
      await ops.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name: "copy-a",
        values: remember({ K: "copy-a-value" }),
      })
    ).data.secret;
    const b = (
      await ops.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name: "copy-b",
        values: remember({ K: "copy-b-value" }),
      })
    ).data.secret;
    await t.database.admin(
      `UPDATE secret_versions SET ciphertext = (SELECT ciphertext FROM secret_versions WHERE secret_id = $1 AND version = 1) WHERE secret_id = $2 AND version = 1`,
      [decode(a.id), decode(b.id)],
    );
    await expect(valuesOf(b.id, 1)).rejects.toThrow("belongs to another secret or version");
    // …and a merge on top of it fails rather than writing a's values under b's name.
    const merge = await ops.update(tenant.session, {
      id: b.id,
      set: remember({ OTHER: "copy-b-other" }),
    });
    expect(merge).toMatchObject({ __typename: "SecretIntegrityError" });
  });

  it("20 concurrent rotations: no lost update, dense versions, a valid chain", async () => {
    const { data } = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "hot",
      values: remember({ K: "hot-0" }),
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.gql(
          `mutation($i: RotateSecretInput!) { rotateSecret(input: $i) { __typename } }`,
          { i: { id: data.secret.id, values: remember({ K: `hot-rotation-${i + 1}` }) } },
          tenant.session,
        ),
      ),
    );
    expect(results.map((r) => r.errors ?? r.data.rotateSecret.__typename)).toEqual(
      Array(20).fill("MutationRotateSecretSuccess"),
    );
    const rows = await t.database.admin<{ version: number }>(
      `SELECT version FROM secret_versions WHERE secret_id = $1 ORDER BY version`,
      [decode(data.secret.id)],
    );
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    const rotated = await t.database.admin(
      `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'SecretRotated'`,
      [`secret-${decode(data.secret.id)}`],
    );
    expect(rotated[0]!.n).toBe(20);
    const latest = await valuesOf(data.secret.id, 21);
    expect(latest.K).toMatch(/^hot-rotation-\d+$/);
    expect((await verifyChain(t.db, decode(tenant.organizationId))).ok).toBe(true);
  });

  it("with transit unavailable, create and rotate fail typed and change nothing", async () => {
    const { data } = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "outage",
      values: remember({ K: "outage-1" }),
    });
    const snapshot = () =>
      t.database.admin(
        `SELECT (SELECT count(*) FROM secrets) s, (SELECT count(*) FROM secret_versions) v, (SELECT count(*) FROM events) e`,
      );
    const before = await snapshot();
    transitDown = true;
    try {
      const created = await ops.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name: "outage-2",
        values: remember({ K: "outage-2" }),
      });
      expect(created).toMatchObject({ __typename: "TransitError", code: "TRANSIT_UNAVAILABLE" });
      const rotated = await ops.rotate(tenant.session, {
        id: data.secret.id,
        values: remember({ K: "outage-3" }),
      });
      expect(rotated).toMatchObject({ __typename: "TransitError", code: "TRANSIT_UNAVAILABLE" });
      expect(await snapshot()).toEqual(before);
    } finally {
      transitDown = false;
    }
  });
});

describe("scopes", () => {
  it("personal secrets are their owner's alone until shared", async () => {
    const editor = await t.addMember(tenant, "MEMBER", "EDITOR");
    const mine = await ops.create(editor.session, {
      scope: "PERSONAL",
      workspaceId: tenant.workspaceId,
      name: "my-pat",
      values: remember({ TOKEN: "personal-token-value" }),
    });
    expect(mine.data.secret.scope).toBe("PERSONAL");
    expect(await ops.get(tenant.session, mine.data.secret.id)).toBeNull(); // not even the org owner
    expect(
      (await ops.list(tenant.session, tenant.workspaceId)).map((s: { name: string }) => s.name),
    ).not.toContain("my-pat");
    expect(
      (await ops.list(editor.session, tenant.workspaceId)).map((s: { name: string }) => s.name),
    ).toContain("my-pat");
    expect((await ops.share(tenant.session, mine.data.secret.id)).__typename).toBe("NotFoundError");
    const mark = await head();
    expect(await ops.share(editor.session, mine.data.secret.id)).toMatchObject({
      data: { scope: "WORKSPACE" },
    });
    expect(await eventsSince(mark)).toEqual(["SecretShared"]);
    expect((await ops.get(tenant.session, mine.data.secret.id)).scope).toBe("WORKSPACE");
  });

  it("organization secrets are managed by organization OWNER/ADMIN only", async () => {
    const member = await t.addMember(tenant, "MEMBER", "ADMIN");
    const denied = await ops.create(member.session, {
      scope: "ORGANIZATION",
      organizationId: tenant.organizationId,
      name: "crowdstrike",
      values: remember({ CROWDSTRIKE_CLIENT_ID: "cs-client-member" }),
    });
    expect(denied.__typename).toBe("ForbiddenError");
    const ok = await ops.configure(tenant.session, {
      scope: "ORGANIZATION",
      organizationId: tenant.organizationId,
      templateId: "crowdstrike",
      values: remember({
        CROWDSTRIKE_CLIENT_ID: "cs-client-id",
        CROWDSTRIKE_CLIENT_SECRET: "cs-client-secret",
      }),
    });
    expect(ok.data.secret).toMatchObject({ scope: "ORGANIZATION", name: "crowdstrike" });
    const orgList = `query($id: ID!) { organization(id: $id) { secrets { edges { node { name } } } } }`;
    expect(
      (await t.gql(orgList, { id: tenant.organizationId }, tenant.session)).data.organization
        .secrets.edges,
    ).toEqual([{ node: { name: "crowdstrike" } }]);
    expect(
      (await t.gql(orgList, { id: tenant.organizationId }, member.session)).errors?.[0]?.extensions
        ?.code,
    ).toBe("FORBIDDEN");
    // Workspace members see it (read-only) when they ask for organization secrets too.
    expect(
      (await ops.list(member.session, tenant.workspaceId, { scopes: ["ORGANIZATION"] })).map(
        (s: { name: string }) => s.name,
      ),
    ).toEqual(["crowdstrike"]);
    expect(
      (
        await ops.rotate(member.session, {
          id: ok.data.secret.id,
          values: remember({
            CROWDSTRIKE_CLIENT_ID: "x-member",
            CROWDSTRIKE_CLIENT_SECRET: "y-member",
          }),
        })
      ).__typename,
    ).toBe("ForbiddenError");
  });
});

describe("no value leaves the service", () => {
  it("appears in no GraphQL response, log line, event or non-ciphertext column", async () => {
    expect(stored.size).toBeGreaterThan(30);
    const columns = await t.database.admin<{ table_name: string; column_name: string }>(`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND NOT (table_name = 'secret_versions' AND column_name = 'ciphertext') AND NOT (table_name = 'transit_keyrings' AND column_name = 'keys')`);
    const tables = [...new Set(columns.map((c) => c.table_name))];
    const dumps: string[] = [];
    for (const table of tables) {
      const cols = columns
        .filter((c) => c.table_name === table)
        .map((c) => `"${c.column_name}"::text`);
      const rows = await t.database.admin(
        `SELECT concat_ws('|', ${cols.join(", ")}) AS row FROM "${table}"`,
      );
      dumps.push(rows.map((r) => String(r.row)).join("\n"));
    }
    const haystacks = {
      responses: t.responses.join("\n"),
      logs: t.logs.join("\n"),
      database: dumps.join("\n"),
    };
    expect(haystacks.responses.length).toBeGreaterThan(10_000);
    for (const value of stored) {
      for (const [where, text] of Object.entries(haystacks)) {
        expect(text.includes(value), `"${value.slice(0, 12)}…" found in ${where}`).toBe(false);
      }
    }
    // And ciphertexts never leave either.
    const ciphertexts = await t.database.admin<{ c: string }>(
      `SELECT ciphertext AS c FROM secret_versions WHERE ciphertext IS NOT NULL`,
    );
    for (const { c } of ciphertexts)
      expect(haystacks.responses.includes(c.slice(9, 40))).toBe(false);
  });
});
