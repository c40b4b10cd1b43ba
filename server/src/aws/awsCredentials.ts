/**
 * The protected AWS secret names (seed 002): when a secret with one of these names holds
 * AWS_ROLE_ARN, resolution assumes the role with STS and injects the temporary keys instead
 * of the stored ones. `amazon_bedrock` shares the key schema but is deliberately not listed:
 * the seed names only `aws` and `amazon_s3`.
 */
export const PROTECTED_AWS_SECRET_NAMES = ["aws", "amazon_s3"] as const;

export type ProtectedAwsSecretName = (typeof PROTECTED_AWS_SECRET_NAMES)[number];

export function isProtectedAwsSecret(name: string): name is ProtectedAwsSecretName {
  return (PROTECTED_AWS_SECRET_NAMES as readonly string[]).includes(name);
}

/** Which credentials a protected AWS secret yields, in the seed's resolution order. */
export type AwsCredentialSelection =
  | { kind: "assume-role"; roleArn: string; region?: string }
  | {
      kind: "static";
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      region?: string;
    }
  | { kind: "none" };

/**
 * Seed 002's order: AWS_ROLE_ARN (AssumeRole) → access key + secret key + session token →
 * access key + secret key. "none" covers everything else (e.g. AWS_PROFILE alone, or only
 * one half of a key pair, which the template already refuses on write): the stored values
 * are then passed through unchanged. An empty or whitespace-only value counts as unset, so a
 * blanked AWS_ROLE_ARN does not shadow working keys.
 */
export function selectAwsCredentials(
  values: Readonly<Record<string, string>>,
): AwsCredentialSelection {
  const get = (key: string): string | undefined => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    return value !== undefined && value.trim() !== "" ? value : undefined;
  };
  const region = get("AWS_REGION");
  const withRegion = region === undefined ? {} : { region };

  const roleArn = get("AWS_ROLE_ARN");
  if (roleArn !== undefined) return { kind: "assume-role", roleArn, ...withRegion };

  const accessKeyId = get("AWS_ACCESS_KEY_ID");
  const secretAccessKey = get("AWS_SECRET_ACCESS_KEY");
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = get("AWS_SESSION_TOKEN");
    return {
      kind: "static",
      accessKeyId,
      secretAccessKey,
      ...(sessionToken === undefined ? {} : { sessionToken }),
      ...withRegion,
    };
  }
  return { kind: "none" };
}
