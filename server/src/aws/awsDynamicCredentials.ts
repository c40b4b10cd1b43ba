import type { Db } from "../db/database.ts";
import type { DynamicCredentials } from "../resolution/dynamicCredentials.ts";
import type { AssumeRole } from "./assumeRole.ts";
import { isProtectedAwsSecret, selectAwsCredentials } from "./awsCredentials.ts";
import { stsSessionName } from "./stsSessionName.ts";

const MINTED_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/**
 * Seed 002's protected names: an `aws` or `amazon_s3` secret holding `AWS_ROLE_ARN` is
 * resolved by assuming that role through STS, with the workspace's external id, and the
 * temporary keys replace any stored ones (order: role ARN → keys + session token → keys).
 */
export function awsDynamicCredentials(deps: {
  db: Db;
  assumeRole: AssumeRole;
}): DynamicCredentials {
  const roleBacked = (secret: { name: string; keyNames: string[] }) =>
    isProtectedAwsSecret(secret.name) && secret.keyNames.includes("AWS_ROLE_ARN");
  return {
    provides: (secret, key) => roleBacked(secret) && MINTED_KEYS.includes(key),
    async mint(secret, stored, _keys, context) {
      if (!roleBacked(secret)) return null;
      const selection = selectAwsCredentials(stored);
      if (selection.kind !== "assume-role") return null;
      const { awsExternalId } = await deps.db.workspace.findUniqueOrThrow({
        where: { id: context.workspaceId },
        select: { awsExternalId: true },
      });
      const credentials = await deps.assumeRole({
        roleArn: selection.roleArn,
        externalId: awsExternalId,
        sessionName: stsSessionName(context.workspaceId, context.runId ?? undefined),
        ...(selection.region ? { region: selection.region } : {}),
      });
      return {
        kind: "aws-assume-role",
        values: {
          ...stored,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
        },
      };
    },
  };
}
