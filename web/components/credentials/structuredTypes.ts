/** The structured secret types (seed 002): fixed keys, each a PEM or OpenSSH text. */
export type StructuredType = "SSH_KEY" | "MTLS" | "CA_CERT";

type KeySpec = { name: string; label: string; placeholder: string; hint: string };

const NORMALISED =
  "Line endings are normalised and a missing final newline is fine; it is checked before saving.";

export const STRUCTURED_TYPES: Record<
  StructuredType,
  { title: string; description: string; keys: KeySpec[] }
> = {
  SSH_KEY: {
    title: "SSH key",
    description: "A single SSH private key (OpenSSH or PEM), stored as PRIVATE_KEY.",
    keys: [
      {
        name: "PRIVATE_KEY",
        label: "private key",
        placeholder: "-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----",
        hint: `Paste the whole key, BEGIN and END lines included. ${NORMALISED}`,
      },
    ],
  },
  MTLS: {
    title: "mTLS client certificate",
    description: "A TLS client certificate and its private key, which must match.",
    keys: [
      {
        name: "TLS_CERTIFICATE",
        label: "client certificate (PEM)",
        placeholder: "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----",
        hint: `The client certificate, optionally followed by its chain. ${NORMALISED}`,
      },
      {
        name: "TLS_PRIVATE_KEY",
        label: "private key (PEM)",
        placeholder: "-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----",
        hint: `The key of that certificate. ${NORMALISED}`,
      },
    ],
  },
  CA_CERT: {
    title: "CA certificate",
    description: "One or more PEM CA certificates to trust, stored as CA_CERTIFICATE.",
    keys: [
      {
        name: "CA_CERTIFICATE",
        label: "CA certificate bundle (PEM)",
        placeholder: "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----",
        hint: `One or more certificates. ${NORMALISED}`,
      },
    ],
  },
};

export function isStructured(type: string): type is StructuredType {
  return type in STRUCTURED_TYPES;
}
