import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAssumeRole } from "../server/src/aws/assumeRole.ts";
import { awsDynamicCredentials } from "../server/src/aws/awsDynamicCredentials.ts";
import { resolveOps } from "./testkit/resolveOps.ts";
import { asInput, secretOps, type Values } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";
import { interceptTransit } from "./testkit/interceptTransit.ts";

const sts = mockClient(STSClient);
let transitCalls = 0;
let t: TestApp;
let ops: ReturnType<typeof secretOps>;
let r: ReturnType<typeof resolveOps>;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
let token: string;
const stored = new Set<string>();
const remember = (values: Values) => {
  for (const v of Object.values(values)) stored.add(v);
  return asInput(values);
};
const decode = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;
const declare = (name: string) =>
  t.gql(
    `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
    { i: { workspaceId: tenant.workspaceId, name } },
    tenant.session,
  );

beforeAll(async () => {
  t = await startTestApp({
    transit: (local) =>
      interceptTransit(local, (method) => {
        if (method === "decrypt") transitCalls++;
      }),
    dynamic: (db) =>
      awsDynamicCredentials({
        db,
        assumeRole: createAssumeRole((region) => new STSClient({ region })),
      }),
  });
  ops = secretOps(t);
  r = resolveOps(t);
  tenant = await t.createTenant();
  token = (
    await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
      "SECRETS_RESOLVE",
      "SECRETS_READ",
    ])
  ).token;
  for (const env of ["staging", "customer_acme", "111111111111", "222222222222"])
    await declare(env);
});
beforeEach(() => sts.reset());
afterAll(() => t.close());

describe("the seeds' examples", () => {
  it("slack per environment: action override → workflow default → default (seed 000/002)", async () => {
    await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "slack",
      values: remember({ SLACK_BOT_TOKEN: "xoxb-default-app" }),
    });
    await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "customer_acme",
      templateId: "slack",
      values: remember({ SLACK_BOT_TOKEN: "xoxb-acme-app" }),
    });
    const args = {
      channel: "#alerts",
      token: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}",
      text: "auth=Bearer ${{SECRETS.slack.SLACK_BOT_TOKEN}}",
    };
    const plain = await r.resolve({ token }, { arguments: args });
    expect(plain.data.arguments).toEqual({
      channel: "#alerts",
      token: "xoxb-default-app",
      text: "auth=Bearer xoxb-default-app",
    });
    expect(plain.data.environment).toBe("default");
    const workflowDefault = await r.resolve(
      { token },
      { arguments: args, defaultEnvironment: "customer_acme" },
    );
    expect(workflowDefault.data.arguments.token).toBe("xoxb-acme-app");
    const override = await r.resolve(
      { token },
      { arguments: args, defaultEnvironment: "customer_acme", environment: "default" },
    );
    expect(override.data.arguments.token).toBe("xoxb-default-app");
    expect(override.data.values).toEqual([
      {
        ref: "slack.SLACK_BOT_TOKEN",
        scope: "WORKSPACE",
        environment: "default",
        version: 1,
        dynamic: null,
        value: "xoxb-default-app",
      },
    ]);
    expect(override.data.redactions).toEqual(["xoxb-default-app"]);
  });

  it("seed 000's FAQ: `slack` only in `default` does not resolve in `staging`, and the error says where it is", async () => {
    const result = await r.resolve(
      { token },
      {
        arguments: {
          channel: "${{ SECRETS.slack.ALERTS_CHANNEL }}",
          t: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}",
          v: "${{ SECRETS.virustotal.VIRUSTOTAL_API_KEY }}",
        },
        environment: "staging",
      },
    );
    expect(result).toMatchObject({
      __typename: "CredentialNotFoundError",
      code: "credential_not_found",
      environment: "staging",
      environmentDeclared: true,
      missing: ["slack.ALERTS_CHANNEL", "slack.SLACK_BOT_TOKEN", "virustotal.VIRUSTOTAL_API_KEY"],
      hints: [{ name: "slack", environments: ["customer_acme", "default"] }],
    });
    expect(result.message).toContain('"slack" exists in "customer_acme", "default"');
    // A key the secret does not have is missing too, listed with the rest.
    const key = await r.resolve(
      { token },
      { arguments: { a: "${{ SECRETS.slack.ALERTS_CHANNEL }}" } },
    );
    expect(key).toMatchObject({
      __typename: "CredentialNotFoundError",
      missing: ["slack.ALERTS_CHANNEL"],
      hints: [],
    });
  });

  it("one aws secret per environment named by AWS account id (seed 001/003)", async () => {
    for (const account of ["111111111111", "222222222222"]) {
      await ops.configure(tenant.session, {
        workspaceId: tenant.workspaceId,
        environment: account,
        templateId: "aws",
        values: remember({
          AWS_ACCESS_KEY_ID: `AKIA${account}`,
          AWS_SECRET_ACCESS_KEY: `secret-for-${account}`,
          AWS_REGION: "us-east-1",
        }),
      });
    }
    for (const account of ["111111111111", "222222222222"]) {
      const result = await r.resolve(
        { token },
        {
          arguments: {
            key: "${{ SECRETS.aws.AWS_ACCESS_KEY_ID }}",
            secret: "${{ SECRETS.aws.AWS_SECRET_ACCESS_KEY }}",
          },
          environment: account,
          purpose: {
            workflowId: "guardduty",
            runId: `run-${account}`,
            actionRef: "list_detectors",
          },
        },
      );
      expect(result.data.arguments).toEqual({
        key: `AKIA${account}`,
        secret: `secret-for-${account}`,
      });
    }
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0); // static keys: no STS
  });

  it("an organization secret is used when no workspace secret exists, and shadowed when one does (seed 003)", async () => {
    await ops.configure(tenant.session, {
      scope: "ORGANIZATION",
      organizationId: tenant.organizationId,
      templateId: "crowdstrike",
      values: remember({
        CROWDSTRIKE_CLIENT_ID: "org-cs-id",
        CROWDSTRIKE_CLIENT_SECRET: "org-cs-secret",
      }),
    });
    const args = { id: "${{ SECRETS.crowdstrike.CROWDSTRIKE_CLIENT_ID }}" };
    const fromOrg = await r.resolve({ token }, { arguments: args });
    expect(fromOrg.data.values[0]).toMatchObject({ scope: "ORGANIZATION", value: "org-cs-id" });
    await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      templateId: "crowdstrike",
      values: remember({
        CROWDSTRIKE_CLIENT_ID: "ws-cs-id",
        CROWDSTRIKE_CLIENT_SECRET: "ws-cs-secret",
      }),
    });
    const shadowed = await r.resolve({ token }, { arguments: args });
    expect(shadowed.data.values[0]).toMatchObject({ scope: "WORKSPACE", value: "ws-cs-id" });
  });

  it("a personal credential resolves only on behalf of its owner, before the workspace's (seed 004)", async () => {
    const owner = await t.addMember(tenant, "MEMBER", "EDITOR");
    const other = await t.addMember(tenant, "MEMBER", "EDITOR");
    await ops.create(owner.session, {
      scope: "PERSONAL",
      workspaceId: tenant.workspaceId,
      name: "github-pat",
      values: remember({ TOKEN: "ghp_personal_of_owner" }),
    });
    const args = { auth: "${{ SECRETS.github-pat.TOKEN }}" };
    expect((await r.resolve({ token }, { arguments: args })).__typename).toBe(
      "CredentialNotFoundError",
    );
    expect(
      (await r.resolve({ token }, { arguments: args, onBehalfOfUser: other.userId })).__typename,
    ).toBe("CredentialNotFoundError");
    const mine = await r.resolve({ token }, { arguments: args, onBehalfOfUser: owner.userId });
    expect(mine.data.values[0]).toMatchObject({
      scope: "PERSONAL",
      value: "ghp_personal_of_owner",
    });
    await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "github-pat",
      values: remember({ TOKEN: "ghp_shared_workspace" }),
    });
    expect((await r.resolve({ token }, { arguments: args })).data.values[0]).toMatchObject({
      scope: "WORKSPACE",
      value: "ghp_shared_workspace",
    });
    expect(
      (await r.resolve({ token }, { arguments: args, onBehalfOfUser: owner.userId })).data
        .values[0],
    ).toMatchObject({ scope: "PERSONAL" });
    const outsider = await t.createUser();
    const notMember = await r.resolve(
      { token },
      { arguments: args, onBehalfOfUser: outsider.userId },
    );
    expect(notMember).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "onBehalfOfUser", message: "is not a member of this workspace" }],
    });
  });
});

describe("AWS role assumption", () => {
  it("assumes the role with the workspace's external id and returns the temporary keys", async () => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: "ASIATEMPORARY1",
        SecretAccessKey: "temp-secret-access-key-1",
        SessionToken: "temp-session-token-1",
        Expiration: new Date(Date.now() + 900_000),
      },
    });
    stored.add("temp-secret-access-key-1").add("temp-session-token-1");
    await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "staging",
      templateId: "amazon_s3",
      values: remember({
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ListBuckets",
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "AKIASTOREDIGNORED",
        AWS_SECRET_ACCESS_KEY: "stored-but-role-wins",
      }),
    });
    const result = await r.resolve(
      { token },
      {
        environment: "staging",
        arguments: {
          id: "${{ SECRETS.amazon_s3.AWS_ACCESS_KEY_ID }}",
          secret: "${{ SECRETS.amazon_s3.AWS_SECRET_ACCESS_KEY }}",
          session: "${{ SECRETS.amazon_s3.AWS_SESSION_TOKEN }}",
          region: "${{ SECRETS.amazon_s3.AWS_REGION }}",
        },
        purpose: { runId: "run-42", workflowId: "wf", actionRef: "s3_list" },
      },
    );
    expect(result.data.arguments).toEqual({
      id: "ASIATEMPORARY1",
      secret: "temp-secret-access-key-1",
      session: "temp-session-token-1",
      region: "eu-west-1",
    });
    expect(
      result.data.values.every((v: { dynamic: string | null }) => v.dynamic === "aws-assume-role"),
    ).toBe(true);
    const externalId = (
      await t.database.admin(`SELECT aws_external_id FROM workspaces WHERE id = $1`, [
        decode(tenant.workspaceId),
      ])
    )[0]!.aws_external_id;
    const calls = sts.commandCalls(AssumeRoleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      RoleArn: "arn:aws:iam::123456789012:role/ListBuckets",
      RoleSessionName: `coffer-${decode(tenant.workspaceId).slice(0, 8)}-run-42`,
      ExternalId: externalId,
      DurationSeconds: 900,
    });
  });

  it("turns an STS refusal into a typed, audited error with a hint", async () => {
    sts.on(AssumeRoleCommand).rejects(
      Object.assign(new Error("User: arn:aws:iam::999:user/coffer is not authorized"), {
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    await ops.configure(tenant.session, {
      workspaceId: tenant.workspaceId,
      environment: "customer_acme",
      templateId: "aws",
      values: remember({ AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/Denied" }),
    });
    const result = await r.resolve(
      { token },
      { environment: "customer_acme", arguments: { k: "${{ SECRETS.aws.AWS_ACCESS_KEY_ID }}" } },
    );
    expect(result).toMatchObject({
      __typename: "AwsAssumeRoleError",
      roleArn: "arn:aws:iam::123456789012:role/Denied",
      awsErrorCode: "AccessDenied",
    });
    expect(result.message).toMatch(/trust policy.*ExternalId/);
    const failed = await t.database.admin(
      `SELECT data FROM events WHERE type = 'SecretsResolutionFailed' ORDER BY position DESC LIMIT 1`,
    );
    expect(failed[0]!.data).toMatchObject({
      reason: "dynamic_credentials_failed",
      missing: ["aws.AWS_ACCESS_KEY_ID"],
      environment: "customer_acme",
    });
  });
});

describe("audit", () => {
  it("records every resolution in Recent usage with its action, run and version", async () => {
    const { data } = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "reporting-api-key",
      values: remember({ KEY: "reporting-key-v1" }),
    });
    await r.resolve(
      { token },
      {
        arguments: { k: "${{ SECRETS.reporting-api-key.KEY }}" },
        purpose: { workflowId: "daily", runId: "run-1", actionRef: "fetch_report" },
      },
    );
    await ops.rotate(tenant.session, {
      id: data.secret.id,
      values: remember({ KEY: "reporting-key-v2" }),
    });
    const second = await r.resolve(
      { token },
      {
        refs: [{ name: "reporting-api-key", key: "KEY" }],
        purpose: { workflowId: "daily", runId: "run-2", actionRef: "fetch_report" },
      },
    );
    expect(second.data.values[0].value).toBe("reporting-key-v2");
    const usage = await t.gql(
      `query($id: ID!) { secret(id: $id) { lastUsedAt recentUsage(first: 10) { edges { node { actionRef workflowId runId version environment keyNames actorKind auditPosition } } } } }`,
      { id: data.secret.id },
      tenant.session,
    );
    expect(usage.data.secret.recentUsage.edges.map((e: { node: unknown }) => e.node)).toEqual([
      {
        actionRef: "fetch_report",
        workflowId: "daily",
        runId: "run-2",
        version: 2,
        environment: "default",
        keyNames: ["KEY"],
        actorKind: "token",
        auditPosition: second.data.usageEventPosition,
      },
      expect.objectContaining({ runId: "run-1", version: 1 }),
    ]);
    expect(usage.data.secret.lastUsedAt).not.toBeNull();
    const event = await t.database.admin(`SELECT stream_id, data FROM events WHERE position = $1`, [
      second.data.usageEventPosition,
    ]);
    expect(event[0]!.stream_id).toBe(`usage-${decode(tenant.workspaceId)}`);
    expect(event[0]!.data.secrets[0]).toMatchObject({
      name: "reporting-api-key",
      version: 2,
      keyNames: ["KEY"],
      scope: "WORKSPACE",
    });
  });

  it("returns no value when the usage event cannot be written (fail-closed)", async () => {
    await t.database.admin(`
      CREATE FUNCTION test_refuse_usage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.type = 'SecretsResolved' THEN RAISE EXCEPTION 'test: audit down'; END IF; RETURN NEW; END; $$;
      CREATE TRIGGER test_refuse_usage BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_refuse_usage();`);
    try {
      const result = await t.gql(
        `mutation($i: ResolveSecretsInput!) { resolveSecrets(input: $i) { __typename ... on Error { message code } ... on MutationResolveSecretsSuccess { data { arguments } } } }`,
        { i: { arguments: { k: "${{ SECRETS.reporting-api-key.KEY }}" } } },
        { token },
      );
      expect(result.data.resolveSecrets).toMatchObject({
        __typename: "AuditUnavailableError",
        code: "AUDIT_UNAVAILABLE",
      });
      expect(result.raw).not.toContain("reporting-key-v2");
    } finally {
      await t.database.admin(
        `DROP TRIGGER test_refuse_usage ON events; DROP FUNCTION test_refuse_usage();`,
      );
    }
  });
});

describe("the hot path", () => {
  it("costs the same SQL statements and exactly one transit call for 1, 10 and 100 secrets", async () => {
    const env = "perf";
    await declare(env);
    const names = Array.from({ length: 100 }, (_, i) => `perf-${String(i).padStart(3, "0")}`);
    for (const name of names)
      await ops.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        environment: env,
        name,
        values: [{ key: "K", value: `${name}-value` }],
      });
    const counts: number[] = [];
    for (const n of [1, 10, 100, 1]) {
      const args = Object.fromEntries(
        names.slice(0, n).map((name) => [name, `\${{ SECRETS.${name}.K }}`]),
      );
      t.takeStatementCount();
      transitCalls = 0;
      const result = await r.resolve({ token }, { arguments: args, environment: env });
      expect(result.data.values).toHaveLength(n);
      expect(transitCalls).toBe(1);
      counts.push(t.takeStatementCount());
    }
    expect(new Set(counts.slice(1)).size).toBe(1); // the first call warms the token's last-used write
    expect(counts[1]).toBe(counts[2]);
  });
});

describe("checkSecrets", () => {
  it("tells which credentials each action needs and which are missing, without decrypting or auditing", async () => {
    transitCalls = 0;
    const before = (await t.database.admin(`SELECT count(*)::int AS n FROM events`))[0]!.n;
    const result = await r.check(
      { token },
      {
        defaultEnvironment: "customer_acme",
        actions: [
          {
            actionRef: "notify",
            arguments: {
              t: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}",
              c: "${{ SECRETS.slack.ALERTS_CHANNEL }}",
            },
          },
          {
            actionRef: "notify_default",
            environment: "default",
            arguments: { t: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}" },
          },
          { actionRef: "scan", refs: [{ name: "virustotal", key: "VIRUSTOTAL_API_KEY" }] },
        ],
      },
    );
    expect(result).toEqual([
      {
        actionRef: "notify",
        environment: "customer_acme",
        ready: false,
        found: [{ ref: "slack.SLACK_BOT_TOKEN", scope: "WORKSPACE", version: 1 }],
        missing: ["slack.ALERTS_CHANNEL"],
        hints: [],
      },
      {
        actionRef: "notify_default",
        environment: "default",
        ready: true,
        found: [{ ref: "slack.SLACK_BOT_TOKEN", scope: "WORKSPACE", version: 1 }],
        missing: [],
        hints: [],
      },
      {
        actionRef: "scan",
        environment: "customer_acme",
        ready: false,
        found: [],
        missing: ["virustotal.VIRUSTOTAL_API_KEY"],
        hints: [],
      },
    ]);
    expect(transitCalls).toBe(0);
    expect((await t.database.admin(`SELECT count(*)::int AS n FROM events`))[0]!.n).toBe(before);
  });

  it("reports malformed expressions with their argument path", async () => {
    const result = await r.resolve(
      { token },
      { arguments: { a: { b: ["${{ SECRETS.slack }}"] } } },
    );
    expect(result).toMatchObject({
      __typename: "ValidationError",
      issues: [{ path: "arguments.a.b[0]" }],
    });
  });
});

describe("no resolved value is kept", () => {
  it("in logs or events", async () => {
    const logs = t.logs.join("\n");
    const events = (await t.database.admin(`SELECT data::text || metadata::text AS e FROM events`))
      .map((e) => e.e)
      .join("\n");
    expect(stored.size).toBeGreaterThan(15);
    for (const value of stored) {
      expect(logs.includes(value), `log has ${value.slice(0, 8)}`).toBe(false);
      expect(events.includes(value), `events have ${value.slice(0, 8)}`).toBe(false);
    }
  });
});
