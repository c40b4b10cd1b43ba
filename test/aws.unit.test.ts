import { inspect } from "node:util";
import {
  AssumeRoleCommand,
  RegionDisabledException,
  STSClient,
  STSServiceException,
} from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AwsAssumeRoleError } from "../server/src/aws/AwsAssumeRoleError.ts";
import { type AssumeRoleInput, createAssumeRole } from "../server/src/aws/assumeRole.ts";
import {
  isProtectedAwsSecret,
  PROTECTED_AWS_SECRET_NAMES,
  selectAwsCredentials,
} from "../server/src/aws/awsCredentials.ts";
import { createStsClients } from "../server/src/aws/createStsClients.ts";
import { stsSessionName, STS_SESSION_NAME_PATTERN } from "../server/src/aws/stsSessionName.ts";

const ROLE_ARN = "arn:aws:iam::123456789012:role/CofferReadOnly";
const EXTERNAL_ID = "coffer-ext-7f3a9c2e";
const SESSION_NAME = "coffer-0b5c2f1e-run_42";
const ACCESS_KEY_ID = "ASIAIOSFODNN7EXAMPLE";
const SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE//////////wEaDSessionTokenSecretPart";
const EXPIRATION = new Date("2026-01-01T12:15:00Z");

const stsMock = mockClient(STSClient);

describe("assumeRole", () => {
  let regions: string[];
  let assumeRole: ReturnType<typeof createAssumeRole>;
  const input: AssumeRoleInput = {
    roleArn: ROLE_ARN,
    externalId: EXTERNAL_ID,
    sessionName: SESSION_NAME,
  };

  beforeEach(() => {
    stsMock.reset();
    regions = [];
    assumeRole = createAssumeRole((region) => {
      regions.push(region);
      return new STSClient({ region });
    });
  });
  afterEach(() => stsMock.reset());

  const credentialsResponse = {
    Credentials: {
      AccessKeyId: ACCESS_KEY_ID,
      SecretAccessKey: SECRET_ACCESS_KEY,
      SessionToken: SESSION_TOKEN,
      Expiration: EXPIRATION,
    },
    AssumedRoleUser: {
      AssumedRoleId: "AROA3XFRBF535PLBIFPI4:coffer-0b5c2f1e-run_42",
      Arn: "arn:aws:sts::123456789012:assumed-role/CofferReadOnly/coffer-0b5c2f1e-run_42",
    },
  };

  it("sends exactly the role, session name, external id and a 900 s duration", async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentialsResponse);

    await assumeRole(input);

    const calls = stsMock.commandCalls(AssumeRoleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: SESSION_NAME,
      ExternalId: EXTERNAL_ID,
      DurationSeconds: 900,
    });
  });

  it("passes a longer duration through when asked", async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentialsResponse);
    await assumeRole({ ...input, durationSeconds: 3600 });
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input.DurationSeconds).toBe(3600);
  });

  it("maps the STS credentials to the temporary keys", async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentialsResponse);
    expect(await assumeRole(input)).toEqual({
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      sessionToken: SESSION_TOKEN,
      expiration: EXPIRATION,
    });
  });

  it("calls STS in us-east-1 by default and in the secret's region when given", async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentialsResponse);
    await assumeRole(input);
    await assumeRole({ ...input, region: "eu-west-3" });
    expect(regions).toEqual(["us-east-1", "eu-west-3"]);
  });

  describe("failures", () => {
    const serviceError = (name: string, status: number, message: string) =>
      new STSServiceException({
        name,
        $fault: status >= 500 ? "server" : "client",
        $metadata: { httpStatusCode: status, requestId: "c6104cbe-af31-11e0-8154-cbc7ccf896c7" },
        message,
      });

    async function failure(
      reject: unknown,
      overrides: Partial<AssumeRoleInput> = {},
    ): Promise<AwsAssumeRoleError> {
      stsMock.on(AssumeRoleCommand).rejects(reject as Error);
      const error = await assumeRole({ ...input, ...overrides }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsAssumeRoleError);
      const typed = error as AwsAssumeRoleError;
      expect(typed.code).toBe("AWS_ASSUME_ROLE_FAILED");
      expectNoCredentials(typed);
      return typed;
    }

    it("explains AccessDenied as a trust policy / external id problem", async () => {
      const error = await failure(
        serviceError(
          "AccessDenied",
          403,
          `User: arn:aws:sts::999999999999:assumed-role/coffer-executor/i-0abc is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
        ),
      );
      expect(error.message).toBe(
        `STS refused to assume ${ROLE_ARN}: check that the role's trust policy trusts Coffer's principal and requires the ExternalId shown on this workspace (Workspace.awsExternalId)`,
      );
      expect(error).toMatchObject({ roleArn: ROLE_ARN, awsErrorCode: "AccessDenied" });
      expect(error.retryable).toBe(false);
      // AWS's own message (it names Coffer's executor principal) is not passed on.
      expect(error.message).not.toContain("coffer-executor");
    });

    it("names the role and ValidationError for an ARN STS refuses", async () => {
      const arn = "arn:aws:iam::123456789012:role/" + "x".repeat(80);
      const error = await failure(
        serviceError("ValidationError", 400, "1 validation error detected: roleArn"),
        { roleArn: arn },
      );
      expect(error.message).toContain(arn);
      expect(error.message).toContain("(ValidationError)");
      expect(error.message).toMatch(/AWS_ROLE_ARN is the exact ARN of an existing IAM role/);
      expect(error).toMatchObject({ roleArn: arn, awsErrorCode: "ValidationError" });
      expect(error.message).not.toContain("1 validation error detected");
    });

    it("refuses a value that is not a role ARN before calling STS, without echoing it", async () => {
      // A secret access key pasted into AWS_ROLE_ARN must not come back in an error.
      const error = await failure(new Error("unused"), { roleArn: SECRET_ACCESS_KEY });
      expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(0);
      expect(error.message).toMatch(/AWS_ROLE_ARN is not an IAM role ARN/);
      expect(error.roleArn).toBeUndefined();
      expect(error.awsErrorCode).toBeUndefined();
    });

    it("refuses a region that is not an AWS region before choosing an STS client", async () => {
      const error = await failure(new Error("unused"), { region: "sts.attacker.example#" });
      expect(regions).toEqual([]);
      expect(error.message).toMatch(/AWS_REGION is not an AWS region/);
      expect(error.message).not.toContain("attacker");
    });

    it("reports an unreachable STS as retryable, with the network code but not its text", async () => {
      const error = await failure(
        Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:443"), { code: "ECONNREFUSED" }),
        { region: "eu-central-1" },
      );
      expect(error.message).toBe(
        `Could not reach STS in eu-central-1 to assume ${ROLE_ARN} (ECONNREFUSED): try again; if it persists, check Coffer's network access to STS (AWS_STS_ENDPOINT)`,
      );
      expect(error).toMatchObject({ awsErrorCode: "ECONNREFUSED", retryable: true });
      expect(error.message).not.toContain("10.1.2.3");
    });

    it("explains a region where STS is disabled", async () => {
      const error = await failure(
        new RegionDisabledException({
          $metadata: { httpStatusCode: 403 },
          message: "STS is not activated in this region for account:123456789012",
        }),
        { region: "ap-east-1" },
      );
      expect(error.message).toMatch(/^STS is not activated in ap-east-1 for the account of /);
      expect(error.message).toContain(ROLE_ARN);
      expect(error.awsErrorCode).toBe("RegionDisabledException");
    });

    it("blames Coffer's own credentials, not the workspace, when they expired", async () => {
      const error = await failure(
        serviceError("ExpiredToken", 400, "The security token included in the request is expired"),
      );
      expect(error.message).toMatch(/Coffer's own AWS credentials .* \(ExpiredToken\)/);
      expect(error.message).toContain(ROLE_ARN);
    });

    it("never copies an AWS message, even one that would contain credentials", async () => {
      const error = await failure(
        serviceError("SomethingNew", 400, `echo: ${SECRET_ACCESS_KEY} ${SESSION_TOKEN}`),
      );
      expect(error.message).toBe(`STS could not assume ${ROLE_ARN} (SomethingNew)`);
    });

    it("treats a response without complete credentials as an error", async () => {
      stsMock.on(AssumeRoleCommand).resolves({});
      const missing = await assumeRole(input).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(AwsAssumeRoleError);
      expect((missing as AwsAssumeRoleError).message).toMatch(/without complete credentials/);

      stsMock.on(AssumeRoleCommand).resolves({
        Credentials: {
          AccessKeyId: ACCESS_KEY_ID,
          SecretAccessKey: SECRET_ACCESS_KEY,
          SessionToken: SESSION_TOKEN,
          Expiration: undefined,
        },
      });
      const partial = await assumeRole(input).catch((e: unknown) => e);
      expect(partial).toBeInstanceOf(AwsAssumeRoleError);
      expectNoCredentials(partial as AwsAssumeRoleError);
    });
  });
});

function expectNoCredentials(error: AwsAssumeRoleError) {
  for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: 5 })]) {
    expect(text).not.toContain(SECRET_ACCESS_KEY);
    expect(text).not.toContain(SESSION_TOKEN);
  }
}

describe("selectAwsCredentials", () => {
  const keys = { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "secret" };

  it("prefers the role ARN over stored keys", () => {
    expect(
      selectAwsCredentials({
        ...keys,
        AWS_SESSION_TOKEN: "token",
        AWS_ROLE_ARN: ROLE_ARN,
        AWS_REGION: "eu-west-1",
      }),
    ).toEqual({ kind: "assume-role", roleArn: ROLE_ARN, region: "eu-west-1" });
    expect(selectAwsCredentials({ AWS_ROLE_ARN: ROLE_ARN })).toEqual({
      kind: "assume-role",
      roleArn: ROLE_ARN,
    });
  });

  it("uses keys with their session token, then keys alone", () => {
    expect(
      selectAwsCredentials({ ...keys, AWS_SESSION_TOKEN: "token", AWS_REGION: "us-west-2" }),
    ).toEqual({
      kind: "static",
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "secret",
      sessionToken: "token",
      region: "us-west-2",
    });
    const alone = selectAwsCredentials(keys);
    expect(alone).toEqual({
      kind: "static",
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "secret",
    });
    expect(alone).not.toHaveProperty("sessionToken");
  });

  it("selects nothing without a role or a complete key pair", () => {
    expect(selectAwsCredentials({})).toEqual({ kind: "none" });
    expect(selectAwsCredentials({ AWS_PROFILE: "prod", AWS_REGION: "us-east-1" })).toEqual({
      kind: "none",
    });
    expect(selectAwsCredentials({ AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE" })).toEqual({
      kind: "none",
    });
    // A blanked role ARN does not shadow working keys.
    expect(selectAwsCredentials({ ...keys, AWS_ROLE_ARN: " " }).kind).toBe("static");
  });

  it("knows the protected names", () => {
    expect(PROTECTED_AWS_SECRET_NAMES).toEqual(["aws", "amazon_s3"]);
    expect(isProtectedAwsSecret("aws")).toBe(true);
    expect(isProtectedAwsSecret("amazon_s3")).toBe(true);
    expect(isProtectedAwsSecret("amazon_bedrock")).toBe(false);
    expect(isProtectedAwsSecret("AWS")).toBe(false);
  });
});

describe("stsSessionName", () => {
  const workspaceId = "0b5c2f1e-8d4a-4c1b-9f2e-7a6b5c4d3e2f";

  it("names the workspace and the run", () => {
    expect(stsSessionName(workspaceId, "run_42")).toBe("coffer-0b5c2f1e-run_42");
    expect(stsSessionName(workspaceId)).toBe("coffer-0b5c2f1e");
  });

  it("stays within 64 characters of STS's charset for long and odd run ids", () => {
    const runIds = [
      "r".repeat(500),
      "exec/2024-01-01T00:00:00Z#attempt 3",
      "ünïcødé-run-🚀",
      "a b\tc\nd",
      "////",
      "x".repeat(48),
      "x".repeat(49),
      `${workspaceId}:${workspaceId}:${workspaceId}`,
    ];
    for (const runId of runIds) {
      const name = stsSessionName(workspaceId, runId);
      expect(name, runId).toMatch(STS_SESSION_NAME_PATTERN);
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name.length).toBeGreaterThanOrEqual(2);
      expect(name.startsWith("coffer-0b5c2f1e-")).toBe(true);
    }
    expect(stsSessionName(workspaceId, "x".repeat(48))).toBe(`coffer-0b5c2f1e-${"x".repeat(48)}`);
    expect(stsSessionName("", "")).toMatch(STS_SESSION_NAME_PATTERN);
    expect(stsSessionName("ü/ü", "🚀")).toMatch(STS_SESSION_NAME_PATTERN);
  });

  it("keeps distinct runs distinct when truncating or sanitising", () => {
    const long = "r".repeat(100);
    expect(stsSessionName(workspaceId, `${long}1`)).not.toBe(
      stsSessionName(workspaceId, `${long}2`),
    );
    expect(stsSessionName(workspaceId, "a/b")).not.toBe(stsSessionName(workspaceId, "a:b"));
    expect(stsSessionName(workspaceId, "a/b")).not.toBe(stsSessionName(workspaceId, "a-b"));
    // Deterministic: the same run always gets the same session name.
    expect(stsSessionName(workspaceId, `${long}1`)).toBe(stsSessionName(workspaceId, `${long}1`));
  });
});

describe("createStsClients", () => {
  it("builds one client per region and reuses it", async () => {
    const stsFor = createStsClients({});
    const east = stsFor("us-east-1");
    expect(stsFor("us-east-1")).toBe(east);
    const west = stsFor("eu-west-1");
    expect(west).not.toBe(east);
    expect(await west.config.region()).toBe("eu-west-1");
  });

  it("points every region's client at AWS_STS_ENDPOINT when configured", async () => {
    const stsFor = createStsClients({ endpoint: "http://localhost:4566" });
    expect(await stsFor("eu-west-1").config.endpoint?.()).toMatchObject({
      protocol: "http:",
      hostname: "localhost",
      port: 4566,
    });
    // Without it, the SDK resolves the regional endpoint itself.
    expect(createStsClients({})("eu-west-1").config.endpoint).toBeUndefined();
  });
});
