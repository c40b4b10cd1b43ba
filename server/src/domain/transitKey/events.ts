/**
 * What happens to an organization's transit key. No decider: the transit engine is the
 * source of truth for key versions; these events record what Coffer asked of it.
 */
export type TransitKeyEvent =
  | { type: "TransitKeyRotated"; data: { keyName: string; latestVersion: number } }
  | {
      type: "SecretsRewrapStarted";
      data: { jobId: string; keyName: string; targetKeyVersion: number; total: number };
    }
  | {
      /** Nothing is left below the version: the organization refuses older ciphertexts. */
      type: "TransitKeyMinimumRaised";
      data: { jobId: string; keyName: string; minDecryptionVersion: number };
    }
  | {
      /** The transit key refuses older versions too; the job is over. */
      type: "SecretsRewrapCompleted";
      data: {
        jobId: string;
        keyName: string;
        targetKeyVersion: number;
        rewrapped: number;
        minDecryptionVersion: number;
      };
    }
  | { type: "TransitKeyDestroyed"; data: { keyName: string } };

export const transitKeyStream = (organizationId: string) => `transit-key-${organizationId}`;
