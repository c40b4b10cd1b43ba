import { X509Certificate, createPrivateKey } from "node:crypto";
import sshpk from "sshpk";

/**
 * PEM / OpenSSH validation with real parsers (node:crypto, sshpk), never regexes.
 * Pasted keys often lose their trailing newline or gain CRLFs: both are normalised.
 * Messages name what is wrong, never the content.
 */
export function normalizePem(value: string): string {
  return `${value.replace(/\r\n?/g, "\n").trim()}\n`;
}

export type PemCheck = { ok: true; value: string } | { ok: false; reason: string };

export function checkPrivateKey(raw: string, allowOpenSsh: boolean): PemCheck {
  const value = normalizePem(raw);
  if (value.includes("-----BEGIN OPENSSH PRIVATE KEY-----")) {
    if (!allowOpenSsh)
      return { ok: false, reason: "must be a PEM private key (OpenSSH format is for SSH keys)" };
    try {
      const key = sshpk.parsePrivateKey(value, "ssh");
      if (!key) return { ok: false, reason: "is not a valid OpenSSH private key" };
      return { ok: true, value };
    } catch (error) {
      return {
        ok: false,
        reason: /encrypted|passphrase/i.test(String(error))
          ? "is encrypted: store the key without a passphrase"
          : "is not a valid OpenSSH private key",
      };
    }
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(value)) {
    return { ok: false, reason: "is encrypted: store the key without a passphrase" };
  }
  try {
    createPrivateKey({ key: value, format: "pem" });
    return { ok: true, value };
  } catch {
    return {
      ok: false,
      reason: allowOpenSsh
        ? "is not a valid PEM or OpenSSH private key"
        : "is not a valid PEM private key",
    };
  }
}

/** One or more PEM certificates (a bundle or a chain), each of which must parse. */
export function checkCertificates(raw: string): PemCheck & { certificates?: X509Certificate[] } {
  const value = normalizePem(raw);
  const blocks = value.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const rest = value
    .replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, "")
    .trim();
  if (blocks.length === 0) return { ok: false, reason: "contains no PEM certificate" };
  if (rest.length > 0)
    return { ok: false, reason: "contains something other than PEM certificates" };
  const certificates: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      certificates.push(new X509Certificate(block));
    } catch {
      return {
        ok: false,
        reason:
          blocks.length > 1
            ? `certificate ${i + 1} of ${blocks.length} is not valid`
            : "is not a valid PEM certificate",
      };
    }
  }
  return { ok: true, value, certificates };
}
