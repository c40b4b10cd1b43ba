/**
 * Secret events carry names, key names, versions and scopes — never a value and never
 * a ciphertext (those live only in secret_versions.ciphertext).
 */
export type SecretScope = "ORGANIZATION" | "WORKSPACE" | "PERSONAL";
export type SecretType = "custom" | "ssh_key" | "mtls" | "ca_cert";

export type SecretEvent =
  | {
      type: "SecretCreated";
      data: {
        secretId: string;
        organizationId: string;
        workspaceId: string | null;
        ownerUserId: string | null;
        scope: SecretScope;
        environment: string;
        name: string;
        secretType: SecretType;
        templateId: string | null;
        description: string | null;
        version: 1;
        keyNames: string[];
      };
    }
  | {
      type: "SecretUpdated";
      data: {
        secretId: string;
        version: number;
        keyNames: string[];
        setKeys: string[];
        removedKeys: string[];
      };
    }
  | { type: "SecretRotated"; data: { secretId: string; version: number; keyNames: string[] } }
  | {
      type: "SecretVersionRestored";
      data: { secretId: string; version: number; restoredFrom: number; keyNames: string[] };
    }
  | { type: "SecretVersionsPruned"; data: { secretId: string; versions: number[] } }
  | { type: "SecretDeleted"; data: { secretId: string; name: string; environment: string } }
  | { type: "SecretShared"; data: { secretId: string; fromUserId: string; workspaceId: string } };

export const secretStream = (secretId: string) => `secret-${secretId}`;
