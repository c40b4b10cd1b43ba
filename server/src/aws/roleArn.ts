/**
 * An IAM role ARN in any partition (aws, aws-cn, aws-us-gov): the same rule the aws
 * template checks on write (secrets/templates.ts). It is checked again before calling STS
 * because a stored value may predate the template or come from a custom secret.
 */
export const AWS_ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export function isAwsRoleArn(value: string): boolean {
  return AWS_ROLE_ARN_PATTERN.test(value);
}
