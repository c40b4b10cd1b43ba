import { generateSecret, generateURI, verify } from "otplib";

/** RFC 6238 defaults every authenticator app speaks: SHA-1, 6 digits, 30 s steps. */
const PERIOD_SECONDS = 30;
/** One step either side, for clocks a little off (checked, and replays refused, by step). */
const TOLERANCE_SECONDS = PERIOD_SECONDS;
const CODE = /^\d{6}$/;

export const TOTP_ISSUER = "Coffer";

/** A new base32 TOTP seed (160 bits). */
export function newTotpSecret(): string {
  return generateSecret();
}

/** What an authenticator app scans or takes by hand: `otpauth://totp/Coffer:<email>?…`. */
export function totpUri(secret: string, accountName: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: accountName, secret });
}

export function looksLikeTotpCode(code: string): boolean {
  return CODE.test(code);
}

/**
 * The time step a code is good for at `now`, or null. A step at or before `afterStep`
 * (the last one accepted) is refused: a code works once, even within its 30 seconds.
 */
export async function acceptedTotpStep(
  secret: string,
  code: string,
  now: Date,
  afterStep: bigint | null,
): Promise<bigint | null> {
  if (!looksLikeTotpCode(code)) return null;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: TOLERANCE_SECONDS,
    ...(afterStep !== null ? { afterTimeStep: Number(afterStep) } : {}),
  });
  // The TOTP strategy answers the step it matched (the HOTP one, never used here, does not).
  return result.valid && "timeStep" in result ? BigInt(result.timeStep) : null;
}
