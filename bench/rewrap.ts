// Re-wrap of 10,000 stored ciphertexts: Coffer's re-wrap job against the raw transit
// batch rewrap it is built on, on LocalTransit over a throwaway embedded PostgreSQL:
//   npx tsx bench/rewrap.ts     (or: npm run bench:rewrap)
// The job also reads its batches from secret_versions, writes them back (compare-and-set),
// keeps progress and records the audit events. Goal: ratio ≤ 1.3.
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { encodeSecretPayload } from "../server/src/secrets/secretPayload.ts";
import { ciphertextKeyVersion, organizationKeyName } from "../server/src/transit/Transit.ts";
import { startBenchApp } from "./benchApp.ts";

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

    // Raw: the same ciphertexts through the adapter's batch rewrap, nothing stored.
    await bench.transit.rewrap(key, ciphertexts.slice(0, BATCH)); // warm-up
    let started = performance.now();
    for (let i = 0; i < COUNT; i += BATCH)
      await bench.transit.rewrap(key, ciphertexts.slice(i, i + BATCH));
    const raw = performance.now() - started;

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
      `Coffer re-wrap job, same ciphertexts stored in secret_versions: ${rate(coffer)}\n`,
    );
    process.stdout.write(`ratio: ${(coffer / raw).toFixed(2)} (goal: ≤ 1.30)\n`);
  } finally {
    await bench.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
