import { AssumeRoleCommand, type Credentials, type STSClient } from "@aws-sdk/client-sts";
import { AwsAssumeRoleError } from "./AwsAssumeRoleError.ts";
import { isAwsRoleArn } from "./roleArn.ts";
import { STS_SESSION_NAME_PATTERN } from "./stsSessionName.ts";

export type AssumeRoleInput = {
  roleArn: string;
  /** The workspace's external id (Workspace.awsExternalId), required by the trust policy. */
  externalId: string;
  /** From `stsSessionName(workspaceId, runId)`. */
  sessionName: string;
  /** AWS_REGION of the secret; STS is called in us-east-1 when it is absent. */
  region?: string;
  /** 900 (the STS minimum) by default: the keys only need to outlive one action. */
  durationSeconds?: number;
};

export type TemporaryAwsCredentials = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
};

export type AssumeRole = (input: AssumeRoleInput) => Promise<TemporaryAwsCredentials>;

export const DEFAULT_STS_REGION = "us-east-1";
export const DEFAULT_DURATION_SECONDS = 900;

// Same rule as the aws template's AWS_REGION check. Checked here too because the region
// picks (and caches) an STS client: an arbitrary string must not reach that cache.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function createAssumeRole(stsFor: (region: string) => STSClient): AssumeRole {
  return async ({ roleArn, externalId, sessionName, region, durationSeconds }) => {
    if (!isAwsRoleArn(roleArn)) {
      throw new AwsAssumeRoleError(
        "AWS_ROLE_ARN is not an IAM role ARN such as arn:aws:iam::123456789012:role/Name (the stored value is not shown)",
        undefined,
        undefined,
        false,
      );
    }
    if (region !== undefined && !REGION.test(region)) {
      throw new AwsAssumeRoleError(
        `Cannot assume ${roleArn}: AWS_REGION is not an AWS region such as us-east-1`,
        roleArn,
        undefined,
        false,
      );
    }
    const duration = durationSeconds ?? DEFAULT_DURATION_SECONDS;
    // Programming errors, not a workspace's misconfiguration: callers derive both values.
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200)
      throw new RangeError("durationSeconds must be an integer between 900 and 43200");
    if (!STS_SESSION_NAME_PATTERN.test(sessionName))
      throw new RangeError("sessionName is not a valid STS RoleSessionName; use stsSessionName()");

    const stsRegion = region ?? DEFAULT_STS_REGION;
    let credentials: Credentials | undefined;
    try {
      const response = await stsFor(stsRegion).send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          ExternalId: externalId,
          DurationSeconds: duration,
        }),
      );
      credentials = response.Credentials;
    } catch (error) {
      throw toAssumeRoleError(error, roleArn, stsRegion);
    }
    const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = credentials ?? {};
    if (!AccessKeyId || !SecretAccessKey || !SessionToken || !(Expiration instanceof Date)) {
      throw new AwsAssumeRoleError(
        `STS answered without complete credentials for ${roleArn}; try again, and report it if it persists`,
        roleArn,
        undefined,
        true,
      );
    }
    return {
      accessKeyId: AccessKeyId,
      secretAccessKey: SecretAccessKey,
      sessionToken: SessionToken,
      expiration: Expiration,
    };
  };
}

const CALLER_CREDENTIAL_CODES = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "CredentialsProviderError",
]);
const REGION_DISABLED_CODES = new Set(["RegionDisabled", "RegionDisabledException"]);
const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
]);
const NETWORK_NAMES = new Set(["TimeoutError", "AbortError", "RequestTimeout"]);

/**
 * Maps whatever the SDK threw to a fixed, actionable explanation. Only the error's code is
 * kept: AWS's messages and a network error's text may repeat request details, so neither is
 * copied, and the original error is not attached as `cause` (loggers serialise causes).
 */
function toAssumeRoleError(error: unknown, roleArn: string, region: string): AwsAssumeRoleError {
  const { code, network, serverFault } = classify(error);
  const tag = code ?? "unknown error";
  const fail = (message: string, retryable: boolean) =>
    new AwsAssumeRoleError(message, roleArn, code, retryable);

  if (code === "AccessDenied")
    return fail(
      `STS refused to assume ${roleArn}: check that the role's trust policy trusts Coffer's principal and requires the ExternalId shown on this workspace (Workspace.awsExternalId)`,
      false,
    );
  if (code === "ValidationError")
    return fail(
      `STS rejected the request to assume ${roleArn} (ValidationError): check that AWS_ROLE_ARN is the exact ARN of an existing IAM role, e.g. arn:aws:iam::123456789012:role/Name`,
      false,
    );
  if (code !== undefined && REGION_DISABLED_CODES.has(code))
    return fail(
      `STS is not activated in ${region} for the account of ${roleArn} (${code}): activate the region in the account's IAM settings, or set AWS_REGION on the secret to an active region`,
      false,
    );
  if (code !== undefined && CALLER_CREDENTIAL_CODES.has(code))
    return fail(
      `Coffer's own AWS credentials were missing, expired or rejected while assuming ${roleArn} (${code}): this is a problem of the Coffer deployment, not of the workspace; an operator must renew them`,
      false,
    );
  if (code !== undefined && THROTTLING_CODES.has(code))
    return fail(
      `STS throttled the request to assume ${roleArn} (${code}): try again shortly`,
      true,
    );
  if (network)
    return fail(
      `Could not reach STS in ${region} to assume ${roleArn} (${tag}): try again; if it persists, check Coffer's network access to STS (AWS_STS_ENDPOINT)`,
      true,
    );
  if (serverFault)
    return fail(`STS failed while assuming ${roleArn} (${tag}): try again later`, true);
  return fail(`STS could not assume ${roleArn} (${tag})`, false);
}

// AWS error codes and Node's system error codes are identifiers; anything else is not
// trusted to be one and is dropped rather than echoed.
const CODE = /^[A-Za-z][\w.:-]{0,99}$/;

function classify(error: unknown): {
  code: string | undefined;
  network: boolean;
  serverFault: boolean;
} {
  if (typeof error !== "object" || error === null)
    return { code: undefined, network: false, serverFault: false };
  const e = error as {
    name?: unknown;
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const systemCode = typeof e.code === "string" && /^E[A-Z0-9_]+$/.test(e.code) ? e.code : null;
  const name = typeof e.name === "string" && e.name !== "Error" ? e.name : null;
  const candidate = systemCode ?? name;
  const code = candidate !== null && CODE.test(candidate) ? candidate : undefined;
  const status = e.$metadata?.httpStatusCode;
  return {
    code,
    network: systemCode !== null || (name !== null && NETWORK_NAMES.has(name)),
    serverFault: e.$fault === "server" || (typeof status === "number" && status >= 500),
  };
}
