import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * `x-coffer-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`. Receivers
 * recompute it over the raw body and reject old timestamps to stop replays.
 */
export function signPayload(key: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
}

export function verifySignature(
  key: string,
  body: string,
  header: string,
  now: number,
  toleranceSeconds = 300,
): boolean {
  const parts = Object.fromEntries(
    header.split(",").map((p) => p.split("=", 2) as [string, string]),
  );
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > toleranceSeconds || !parts.v1)
    return false;
  const expected = Buffer.from(signPayload(key, body, timestamp).split("v1=")[1]!, "hex");
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
