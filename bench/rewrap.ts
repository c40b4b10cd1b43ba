// Re-wrap of 10,000 stored ciphertexts on LocalTransit over a throwaway embedded PostgreSQL:
//   npx tsx bench/rewrap.ts     (or: npm run bench:rewrap)
// Coffer's re-wrap job against two floors, measured in the same run:
//  - transit only: the adapter's batch rewrap of the same ciphertexts, nothing read or stored;
//  - stored: what any re-wrap of stored rows cannot avoid, done directly: one read of the
//    rows, the batch rewraps, one bulk UPDATE per batch, on an identical copy of the rows
//    (same table definition and indexes).
// The job adds paging, compare-and-set writes, progress in the same transaction, the OAuth
// and webhook values, the final check under the chain lock and the audit events.
// Goal: ratio ≤ 1.3.
import pg from "pg";
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { encodeSecretPayload } from "../server/src/secrets/secretPayload.ts";
import { ciphertextKeyVersion, organizationKeyName } from "../server/src/transit/Transit.ts";
import { startBenchApp } from "./benchApp.ts";
import { runBench } from "./runBench.ts";

const COUNT = 10_000;
const BATCH = 500;

async function main(): Promise<void> {
  const bench = await startBenchApp({ tuning: { rewrapBatchSize: BATCH } });
  try {
    const key = organizationKeyName(bench.organizationId);
    // 10,000 one-version secrets, inserted directly (creating them through the API is not what is measured).
    const ids = Array.from({ length: COUNT }, () => randomUUID());
    const ciphertexts: string[] = [];
    for (let i = 0; i < COUNT; i += BATCH) {
      const slice = ids.slice(i, i + BATCH);
      const plaintexts = slice.map((secretId) =>
        encodeSecretPayload(
          { organizationId: bench.organizationId, secretId, version: 1 },
          { K: randomBytes(24).toString("base64") },
        ),
      );
      ciphertexts.push(...(await bench.transit.encrypt(key, plaintexts)));
    }
    const now = new Date();
    await bench.db.secret.createMany({
      data: ids.map((id, i) => ({
        id,
        organizationId: bench.organizationId,
        workspaceId: bench.workspaceId,
        scope: "WORKSPACE",
        scopeKey: `workspace:${bench.workspaceId}`,
        environment: "default",
        name: `s-${i}`,
        type: "custom",
        keyNames: ["K"],
        currentVersion: 1,
        streamVersion: 1,
        createdBy: "bench",
        createdAt: now,
        updatedAt: now,
      })),
    });
    await bench.db.secretVersion.createMany({
      data: ids.map((secretId, i) => ({
        secretId,
        version: 1,
        organizationId: bench.organizationId,
        keyNames: ["K"],
        ciphertext: ciphertexts[i]!,
        keyVersion: 1,
        origin: "CREATED",
        createdBy: "bench",
        createdAt: now,
      })),
    });
    await bench.app.services.transitKeys.rotateKey(bench.caller, bench.organizationId);

    // The stored floor's copy of the rows, readable and writable by the app's login.
    const admin = new pg.Client({ connectionString: bench.adminUrl });
    await admin.connect();
    await admin.query(`CREATE TABLE rewrap_floor (LIKE secret_versions INCLUDING ALL)`);
    await admin.query(`INSERT INTO rewrap_floor SELECT * FROM secret_versions`);
    await admin.query(`GRANT SELECT, UPDATE ON rewrap_floor TO coffer_app`);
    await admin.query(`VACUUM ANALYZE rewrap_floor`);
    await admin.query(`VACUUM ANALYZE secret_versions`);
    await admin.end();

    // Transit only: the same ciphertexts through the adapter's batch rewrap, nothing stored.
    await bench.transit.rewrap(key, ciphertexts.slice(0, BATCH)); // warm-up
    let started = performance.now();
    for (let i = 0; i < COUNT; i += BATCH)
      await bench.transit.rewrap(key, ciphertexts.slice(i, i + BATCH));
    const raw = performance.now() - started;

    started = performance.now();
    const rows = await bench.db.$queryRaw<
      { secret_id: string; version: number; ciphertext: string }[]
    >`
      SELECT secret_id::text AS secret_id, version, ciphertext FROM rewrap_floor ORDER BY secret_id, version`;
    for (let i = 0; i < rows.length; i += BATCH) {
      const batch = rows.slice(i, i + BATCH);
      const fresh = await bench.transit.rewrap(
        key,
        batch.map((r) => r.ciphertext),
      );
      await bench.db.$executeRaw`
        UPDATE rewrap_floor AS v SET ciphertext = u.fresh, key_version = 2
        FROM unnest(${batch.map((b) => b.secret_id)}::uuid[], ${batch.map((b) => b.version)}::int[], ${fresh}::text[])
          AS u(secret_id, version, fresh)
        WHERE v.secret_id = u.secret_id AND v.version = u.version`;
    }
    const stored = performance.now() - started;

    started = performance.now();
    const { done } = await bench.app.services.transitKeys.startRewrap(
      bench.caller,
      bench.organizationId,
    );
    await done;
    const coffer = performance.now() - started;

    const left = await bench.db.secretVersion.count({
      where: { organizationId: bench.organizationId, keyVersion: { lt: 2 } },
    });
    const sample = await bench.db.secretVersion.findFirstOrThrow({
      where: { organizationId: bench.organizationId },
    });
    if (left !== 0 || ciphertextKeyVersion(sample.ciphertext!) !== 2)
      throw new Error("re-wrap incomplete");

    const rate = (ms: number) => `${ms.toFixed(0)} ms (${Math.round((COUNT / ms) * 1000)}/s)`;
    process.stdout.write(
      `raw transit rewrap, ${COUNT} ciphertexts in batches of ${BATCH}: ${rate(raw)}\n`,
    );
    process.stdout.write(
      `raw stored re-wrap (read, batch rewrap, bulk UPDATE) of an identical copy: ${rate(stored)}\n`,
    );
    process.stdout.write(
      `Coffer re-wrap job, same ciphertexts stored in secret_versions: ${rate(coffer)}\n`,
    );
    process.stdout.write(
      `ratio vs the stored floor: ${(coffer / stored).toFixed(2)} (goal: ≤ 1.30); vs transit only: ${(coffer / raw).toFixed(2)}\n`,
    );
  } finally {
    await bench.stop();
  }
}

runBench(main);
