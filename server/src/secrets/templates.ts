import { isAwsRoleArn } from "../aws/roleArn.ts";
import type { FieldIssue } from "../errors/ValidationError.ts";

/**
 * Prebuilt credential templates (seeds 000–003): integrations expect fixed secret names
 * and keys. A template is data: required keys, optional keys, an "at least one of" rule,
 * deprecated keys, and per-key checks. `configureCredential` validates against it.
 */
export type TemplateKey = {
  name: string;
  description: string;
  check?: (value: string) => string | null;
};

export type CredentialTemplate = {
  id: string;
  /** The secret name integrations look up, e.g. `${{ SECRETS.slack.SLACK_BOT_TOKEN }}`. */
  secretName: string;
  title: string;
  description: string;
  requiredKeys: TemplateKey[];
  optionalKeys: TemplateKey[];
  /** When set, at least one of these keys must be given (seed 001: the AWS secrets). */
  atLeastOneOf?: string[];
  /** Accepted, but reported as deprecated. */
  deprecatedKeys?: Record<string, string>;
  /** Rules across keys, e.g. keys that only make sense together. */
  crossKeyRule?: (values: Readonly<Record<string, string>>) => string | null;
};

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const url = (value: string): string | null => {
  try {
    const parsed = new URL(value);
    return parsed.protocol.length > 1 && (parsed.host || parsed.pathname)
      ? null
      : "must be a URL such as postgresql+psycopg://user:pass@host:5432/db";
  } catch {
    return "must be a URL such as postgresql+psycopg://user:pass@host:5432/db";
  }
};

const awsKeys: TemplateKey[] = [
  {
    name: "AWS_ROLE_ARN",
    description: "Role to assume with STS (recommended); Coffer passes the workspace's external id",
    check: (v) =>
      isAwsRoleArn(v)
        ? null
        : "must be an IAM role ARN such as arn:aws:iam::123456789012:role/Name",
  },
  {
    name: "AWS_ACCESS_KEY_ID",
    description: "Access key id (with AWS_SECRET_ACCESS_KEY)",
    check: (v) =>
      /^[A-Z0-9]{16,128}$/.test(v)
        ? null
        : "must be an AWS access key id (16–128 uppercase letters and digits)",
  },
  { name: "AWS_SECRET_ACCESS_KEY", description: "Secret access key (with AWS_ACCESS_KEY_ID)" },
  { name: "AWS_SESSION_TOKEN", description: "Session token of temporary credentials" },
  {
    name: "AWS_REGION",
    description: "Region, e.g. us-east-1",
    check: (v) => (REGION.test(v) ? null : "must be an AWS region such as us-east-1"),
  },
  { name: "AWS_PROFILE", description: "Named profile (profile-based authentication)" },
  { name: "AWS_ROLE_SESSION_NAME", description: "Deprecated: Coffer manages the STS session name" },
];

const aws = (id: string, title: string, description: string): CredentialTemplate => ({
  id,
  secretName: id,
  title,
  description,
  requiredKeys: [],
  optionalKeys: awsKeys,
  atLeastOneOf: [
    "AWS_ROLE_ARN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_PROFILE",
  ],
  crossKeyRule: (values) =>
    "AWS_ACCESS_KEY_ID" in values !== "AWS_SECRET_ACCESS_KEY" in values
      ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together"
      : null,
  deprecatedKeys: {
    AWS_ROLE_SESSION_NAME:
      "AWS_ROLE_SESSION_NAME is not used: Coffer derives the STS session name from the workspace and run; do not add it to new secrets",
  },
});

export const CREDENTIAL_TEMPLATES: readonly CredentialTemplate[] = [
  {
    id: "slack",
    secretName: "slack",
    title: "Slack",
    description: "Slack SDK actions",
    requiredKeys: [{ name: "SLACK_BOT_TOKEN", description: "Bot token (xoxb-…)" }],
    optionalKeys: [],
  },
  {
    id: "virustotal",
    secretName: "virustotal",
    title: "VirusTotal",
    description: "VirusTotal API",
    requiredKeys: [{ name: "VIRUSTOTAL_API_KEY", description: "API key" }],
    optionalKeys: [],
  },
  {
    id: "jira",
    secretName: "jira",
    title: "Jira",
    description: "Jira Cloud REST API",
    requiredKeys: [
      { name: "JIRA_USER_EMAIL", description: "Email of the account the token belongs to" },
      { name: "JIRA_API_TOKEN", description: "API token" },
    ],
    optionalKeys: [],
  },
  {
    id: "crowdstrike",
    secretName: "crowdstrike",
    title: "CrowdStrike Falcon",
    description: "Falcon API (per-customer tenants live in environments)",
    requiredKeys: [
      { name: "CROWDSTRIKE_CLIENT_ID", description: "API client id" },
      { name: "CROWDSTRIKE_CLIENT_SECRET", description: "API client secret" },
    ],
    optionalKeys: [{ name: "CROWDSTRIKE_MEMBER_CID", description: "Child CID (MSSP)" }],
  },
  {
    id: "github",
    secretName: "github",
    title: "GitHub",
    description: "GitHub REST API with a personal access token",
    requiredKeys: [{ name: "GITHUB_TOKEN", description: "Personal access token" }],
    optionalKeys: [],
  },
  {
    id: "sql",
    secretName: "sql",
    title: "SQL database",
    description: "core.sql.execute_query: a SQLAlchemy database URL",
    requiredKeys: [
      {
        name: "CONNECTION_URL",
        description: "e.g. postgresql+psycopg://user:pass@db.example.com:5432/app",
        check: url,
      },
    ],
    optionalKeys: [],
  },
  aws("aws", "AWS", "tools.aws_boto3 actions; AWS_ROLE_ARN triggers STS AssumeRole"),
  aws("amazon_s3", "Amazon S3", "tools.amazon_s3 actions; AWS_ROLE_ARN triggers STS AssumeRole"),
  aws("amazon_bedrock", "Amazon Bedrock", "Bedrock models"),
];

export function findTemplate(id: string): CredentialTemplate | undefined {
  return CREDENTIAL_TEMPLATES.find((t) => t.id === id);
}

/** Every issue at once (missing keys, unknown keys, failed checks), plus deprecation warnings. */
export function validateAgainstTemplate(
  template: CredentialTemplate,
  values: Readonly<Record<string, string>>,
): { issues: FieldIssue[]; warnings: string[] } {
  const issues: FieldIssue[] = [];
  const known = new Map(
    [...template.requiredKeys, ...template.optionalKeys].map((k) => [k.name, k]),
  );
  const missing = template.requiredKeys.filter((k) => !(k.name in values)).map((k) => k.name);
  if (missing.length)
    issues.push({
      path: "values",
      message: `missing required key${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`,
    });
  for (const [key, value] of Object.entries(values)) {
    const spec = known.get(key);
    if (!spec) {
      issues.push({
        path: key,
        message: `is not a key of the ${template.id} template (use a custom secret for other keys)`,
      });
      continue;
    }
    const problem = spec.check?.(value);
    if (problem) issues.push({ path: key, message: problem });
  }
  if (template.atLeastOneOf && !template.atLeastOneOf.some((k) => k in values)) {
    issues.push({
      path: "values",
      message: `give at least one of: ${template.atLeastOneOf.join(", ")}`,
    });
  }
  const crossKey = template.crossKeyRule?.(values);
  if (crossKey) issues.push({ path: "values", message: crossKey });
  const warnings = Object.entries(template.deprecatedKeys ?? {})
    .filter(([key]) => key in values)
    .map(([, message]) => message);
  return { issues, warnings };
}
