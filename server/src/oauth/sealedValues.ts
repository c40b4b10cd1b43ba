import { canonicalJson } from "../canonicalJson.ts";
import { SecretIntegrityError } from "../secrets/secretPayload.ts";
import { organizationKeyName, type Transit } from "../transit/Transit.ts";

/**
 * OAuth client secrets and tokens, through the same transit key as the organization's
 * secrets. Like secret versions, each plaintext names what it belongs to (row and field),
 * checked when opened, so a ciphertext moved to another row or field is refused.
 */
export type SealedField =
  "client_secret" | "access_token" | "refresh_token" | "webhook_signing_key";
type Item = { ownerId: string; field: SealedField; value: string };

export async function seal(
  transit: Transit,
  organizationId: string,
  items: Item[],
): Promise<string[]> {
  if (items.length === 0) return [];
  return transit.encrypt(
    organizationKeyName(organizationId),
    items.map((i) =>
      Buffer.from(
        canonicalJson({ v: 1, organizationId, ownerId: i.ownerId, field: i.field, value: i.value }),
        "utf8",
      ),
    ),
  );
}

export function openSealed(
  plaintext: Buffer,
  expected: { organizationId: string; ownerId: string; field: SealedField },
): string {
  const doc = JSON.parse(plaintext.toString("utf8")) as Record<string, unknown>;
  if (
    doc.v !== 1 ||
    doc.organizationId !== expected.organizationId ||
    doc.ownerId !== expected.ownerId ||
    doc.field !== expected.field ||
    typeof doc.value !== "string"
  ) {
    throw new SecretIntegrityError(
      `Stored ${expected.field.replace("_", " ")} belongs to another connection`,
    );
  }
  return doc.value;
}

export async function unseal(
  transit: Transit,
  organizationId: string,
  items: { ciphertext: string; ownerId: string; field: SealedField }[],
): Promise<string[]> {
  if (items.length === 0) return [];
  const plaintexts = await transit.decrypt(
    organizationKeyName(organizationId),
    items.map((i) => i.ciphertext),
  );
  return plaintexts.map((p, n) =>
    openSealed(p, { organizationId, ownerId: items[n]!.ownerId, field: items[n]!.field }),
  );
}
