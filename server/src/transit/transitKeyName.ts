import { TransitInvalidRequestError } from "./TransitError.ts";

// Vault's own rule for key names (framework.GenericNameRegex): word characters, "-" and
// ".", starting and ending with a word character. Checking it in both adapters keeps them
// interchangeable and, for Vault, stops a name from reaching another endpoint ("x/config").
const KEY_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9_])?$/;

export function assertTransitKeyName(name: string): void {
  if (!KEY_NAME.test(name)) {
    throw new TransitInvalidRequestError(
      "invalid transit key name: use letters, digits, '_', '-' and '.', at most 128 characters",
    );
  }
}
