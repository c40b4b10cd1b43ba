import { createPrivateKey } from "node:crypto";
import type { SecretType } from "../domain/secret/events.ts";
import type { FieldIssue } from "../errors/ValidationError.ts";
import { checkCertificates, checkPrivateKey } from "./pem.ts";

/**
 * The four secret types of seed 002. Structured types have a fixed key set (no optional
 * keys) and validated PEM/OpenSSH content; `custom` takes any keys.
 */
export const SECRET_TYPES: Record<SecretType, { label: string; keys: readonly string[] | null }> = {
  custom: { label: "Custom", keys: null },
  ssh_key: { label: "SSH key", keys: ["PRIVATE_KEY"] },
  mtls: { label: "mTLS", keys: ["TLS_CERTIFICATE", "TLS_PRIVATE_KEY"] },
  ca_cert: { label: "CA certificate", keys: ["CA_CERTIFICATE"] },
};

/**
 * Checks the complete value set of a secret of `type` and returns it normalised (PEM line
 * endings, trailing newline). Issues are collected for every key at once.
 */
export function validateTypedValues(
  type: SecretType,
  values: Readonly<Record<string, string>>,
): { values: Record<string, string>; issues: FieldIssue[] } {
  const fixed = SECRET_TYPES[type].keys;
  const issues: FieldIssue[] = [];
  const out: Record<string, string> = { ...values };
  if (!fixed) return { values: out, issues };
  for (const key of fixed)
    if (!(key in values)) issues.push({ path: key, message: `is required for a ${type} secret` });
  for (const key of Object.keys(values)) {
    if (!fixed.includes(key))
      issues.push({
        path: key,
        message: `is not a key of a ${type} secret (keys: ${fixed.join(", ")})`,
      });
  }
  const check = (
    key: string,
    result: { ok: true; value: string } | { ok: false; reason: string },
  ) => {
    if (result.ok) out[key] = result.value;
    else issues.push({ path: key, message: result.reason });
  };
  if (type === "ssh_key" && values.PRIVATE_KEY !== undefined)
    check("PRIVATE_KEY", checkPrivateKey(values.PRIVATE_KEY, true));
  if (type === "ca_cert" && values.CA_CERTIFICATE !== undefined)
    check("CA_CERTIFICATE", checkCertificates(values.CA_CERTIFICATE));
  if (type === "mtls") {
    const certificate =
      values.TLS_CERTIFICATE !== undefined ? checkCertificates(values.TLS_CERTIFICATE) : undefined;
    const key =
      values.TLS_PRIVATE_KEY !== undefined
        ? checkPrivateKey(values.TLS_PRIVATE_KEY, false)
        : undefined;
    if (certificate) check("TLS_CERTIFICATE", certificate);
    if (key) check("TLS_PRIVATE_KEY", key);
    if (
      certificate?.ok &&
      key?.ok &&
      !certificate.certificates![0]!.checkPrivateKey(createPrivateKey(key.value))
    ) {
      issues.push({
        path: "TLS_PRIVATE_KEY",
        message: "does not belong to the first certificate of TLS_CERTIFICATE",
      });
    }
  }
  return { values: out, issues };
}
