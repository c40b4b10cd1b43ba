import type { Transit } from "../transit/Transit.ts";
import { TransitBatchError } from "../transit/TransitError.ts";

/**
 * Decrypts stored ciphertexts in one transit batch. A re-wrap may replace a ciphertext
 * after it was read and then raise the key's minimum version before this call; the same
 * versions, re-wrapped, are then read again (`reread`, given the ciphertexts just tried)
 * and the batch retried, twice at most. When nothing was re-wrapped, the refusal stands.
 */
export async function decryptRereading(
  transit: Transit,
  keyName: string,
  ciphertexts: string[],
  reread: (tried: string[]) => Promise<string[]>,
): Promise<Buffer[]> {
  let tried = ciphertexts;
  for (let attempt = 1; ; attempt++) {
    try {
      return await transit.decrypt(keyName, tried);
    } catch (error) {
      if (!(error instanceof TransitBatchError) || attempt >= 3) throw error;
      const fresh = await reread(tried);
      if (fresh.every((c, i) => c === tried[i])) throw error;
      tried = fresh;
    }
  }
}
