import { AppError } from "../errors/AppError.ts";

/**
 * STS AssumeRole failed for a protected AWS secret. The message names the role and the AWS
 * error code with a fixed explanation; it never carries AWS's own message (which can echo
 * request details) nor any credential. `roleArn` is undefined when the stored value is not a
 * role ARN at all, so a key pasted into the wrong field is not repeated back.
 */
export class AwsAssumeRoleError extends AppError {
  override name = "AwsAssumeRoleError";
  readonly code = "AWS_ASSUME_ROLE_FAILED";
  constructor(
    message: string,
    readonly roleArn: string | undefined,
    /** AWS's error code (e.g. `AccessDenied`), a network code (e.g. `ECONNREFUSED`), or undefined. */
    readonly awsErrorCode: string | undefined,
    /** Worth retrying later: throttling, a timeout, an unreachable or failing STS. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
