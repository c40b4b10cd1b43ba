// Rewrap throughput on LocalTransit over a throwaway embedded PostgreSQL:
//   npx tsx bench/rewrap.ts     (or: npm run bench:rewrap)
// Encrypts 10,000 small plaintexts, rotates the key, then times
//   (a) raw rewrap through the adapter, in batches of 500, and
//   (b) rewrapping through Coffer (the rewrap job), once rewrapThroughCoffer exists.
// Prints the figures and `ratio: X.XX` lines (b / a: what Coffer costs on top of the engine).
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createPrismaClient, type Db } from "../server/src/db/database.ts";
import { startEmbeddedPostgres } from "../server/src/db/embeddedPostgres.ts";
import { applyMigrations, ensureDatabase, withDatabase } from "../server/src/db/migrate.ts";
import { freePort } from "../server/src/net/freePort.ts";
import { LocalTransit } from "../server/src/transit/LocalTransit.ts";
import { PrismaKeyringStore } from "../server/src/transit/PrismaKeyringStore.ts";
import type { Transit } from "../server/src/transit/Transit.ts";

const COUNT = 10_000;
const BATCH = 500;
const KEY = "coffer-org-bench";

type Bench = { db: Db; transit: Transit; ciphertexts: string[] };

/**
 * ========================= TODO: fill in once the rewrap job exists =========================
 * Rewrap every ciphertext of `bench.ciphertexts` through Coffer's rewrap job (stored rows,
 * progress, audit) and return the elapsed milliseconds. Null means "not implemented yet":
 * the benchmark then prints the raw figure only.
 * =============================================================================================
 */
async function rewrapThroughCoffer(_bench: Bench): Promise<number | null> {
  return null;
}

async function rawRewrap(transit: Transit, ciphertexts: string[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ciphertexts.length; i += BATCH) {
    const rewrapped = await transit.rewrap(KEY, ciphertexts.slice(i, i + BATCH));
    if (rewrapped.length !== Math.min(BATCH, ciphertexts.length - i))
      throw new Error("short batch");
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const runDirectory = await mkdtemp(join(tmpdir(), "coffer-bench-"));
  await chmod(runDirectory, 0o711); // as root, the postgres OS user must reach data/
  const quiet = { info: () => undefined, warn: () => undefined };
  const server = await startEmbeddedPostgres({
    dir: join(runDirectory, "data"),
    port: await freePort(),
    persistent: false,
    durable: false,
    log: quiet,
  });
  let db: Db | undefined;
  try {
    await ensureDatabase(server.adminUrl, "coffer_bench");
    const url = withDatabase(server.adminUrl, "coffer_bench");
    await applyMigrations(url);
    db = createPrismaClient(url, 4);
    const transit = new LocalTransit(new PrismaKeyringStore(db, randomBytes(32)));
    await transit.createKey(KEY);

    const plaintexts = Array.from({ length: COUNT }, () => randomBytes(48));
    const ciphertexts: string[] = [];
    for (let i = 0; i < COUNT; i += BATCH) {
      ciphertexts.push(...(await transit.encrypt(KEY, plaintexts.slice(i, i + BATCH))));
    }
    await transit.rotateKey(KEY);

    await rawRewrap(transit, ciphertexts.slice(0, BATCH)); // warm-up (JIT, pool, key cache)
    const raw = await rawRewrap(transit, ciphertexts);
    print(`raw rewrap (LocalTransit, batches of ${BATCH})`, raw);

    const coffer = await rewrapThroughCoffer({ db, transit, ciphertexts });
    if (coffer === null) {
      process.stdout.write("rewrapThroughCoffer: not implemented yet (no ratio)\n");
    } else {
      print("rewrap through Coffer", coffer);
      process.stdout.write(`ratio: ${(coffer / raw).toFixed(2)}\n`);
    }
  } finally {
    await db?.$disconnect();
    await server.stop();
    await rm(runDirectory, { recursive: true, force: true });
  }
}

function print(label: string, ms: number): void {
  const perSecond = Math.round((COUNT / ms) * 1000);
  process.stdout.write(`${label}: ${COUNT} ciphertexts in ${ms.toFixed(0)} ms (${perSecond}/s)\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
