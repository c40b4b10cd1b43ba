/**
 * Uses of credentials, on one stream per workspace appended without an expected-version
 * check, so resolutions never contend with rotations of the secrets they use. Names,
 * scopes, versions and key names — never values.
 */
export type UsagePurpose = {
  workflowId: string | null;
  runId: string | null;
  actionRef: string | null;
};

export type UsedSecret = {
  secretId: string;
  name: string;
  scope: string;
  environment: string;
  version: number;
  keyNames: string[];
  dynamic: string | null;
};

export type UsageEvent =
  | {
      type: "SecretsResolved";
      data: {
        workspaceId: string;
        environment: string;
        onBehalfOf: string | null;
        purpose: UsagePurpose;
        secrets: UsedSecret[];
      };
    }
  | {
      type: "SecretsResolutionFailed";
      data: {
        workspaceId: string;
        environment: string;
        onBehalfOf: string | null;
        purpose: UsagePurpose;
        reason: string;
        missing: string[];
      };
    };

export const usageStream = (workspaceId: string) => `usage-${workspaceId}`;
