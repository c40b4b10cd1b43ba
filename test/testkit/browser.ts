import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/**
 * Debian's Chromium driven by playwright-core (Playwright cannot download its own browser
 * here). The networking switches keep it from flooding a closed network with connections.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Fails with the fix in the message: a missing browser is a broken setup, not a skip. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the console's browser tests need it. ` +
        "Install Debian's package (apt-get update && apt-get install -y chromium; .ci/run does), " +
        "or point CHROMIUM_PATH at a Chromium binary.",
    );
}

export type Browser = { context: BrowserContext; close: () => Promise<void> };

/** A fresh profile per launch, removed on close. */
export async function launchBrowser(): Promise<Browser> {
  requireChromium();
  const profile = mkdtempSync(path.join(os.tmpdir(), "coffer-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    locale: "en-US",
    timezoneId: "UTC",
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
