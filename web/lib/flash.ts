/**
 * A one-shot message carried across a client-side navigation ("Credential created"), held
 * in memory only. It never carries a value: callers pass names and server warnings.
 */
export type Flash = { tone: "success" | "warning"; title: string; details?: string[] };

let pending: Flash | null = null;

export function setFlash(flash: Flash): void {
  pending = flash;
}

export function takeFlash(): Flash | null {
  const flash = pending;
  pending = null;
  return flash;
}
