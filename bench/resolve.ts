// GraphQL resolution of 10 secrets against its floors, measured in the same run:
//   npx tsx bench/resolve.ts     (or: npm run bench:resolve)
// Three floors, done directly and measured in the same run:
//  - physical: one indexed select of the 10 rows (a scratch table of AES-256-GCM
//    ciphertexts), decryption in process, one event row inserted and committed — nothing
//    else (raw pg, no chain, no Coffer code);
//  - core: Coffer's lookup statement, one transit batch decrypt (LocalTransit, its keyring
//    read included), one chained append of the usage event (coffer_append_batch);
//  - every statement: the core plus what the service must also do (the token's
//    authentication (from the cache, as a resolution does), the usage projection and the
//    token check in the append's statement, the group commit).
// GraphQL runs as main.ts runs it, with the rate limit counted in PostgreSQL.
// Goals: ≤ 1.5× the core floor, ≤ 3× the physical floor.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { poolOf } from "../server/src/db/database.ts";
import { appendBatchCall } from "../server/src/eventstore/appendBatch.ts";
import { lookupSecrets, usableScopeKeys } from "../server/src/resolution/lookupSecrets.ts";
import { createUsageLog } from "../server/src/resolution/usageLog.ts";
import { organizationKeyName } from "../server/src/transit/Transit.ts";
import { startBenchApp } from "./benchApp.ts";
import { runBench } from "./runBench.ts";

const SECRETS = 10;
const ITERATIONS = 400;

async function main(): Promise<void> {
  // The rate limit counted in PostgreSQL, as main.ts runs every `api` replica (a generous
  // budget: the bench measures the round trip, not refusals).
  const bench = await startBenchApp({
    sharedRateLimits: true,
    rateLimits: { signInsPerMinute: 10, resolutionsPerMinute: 10_000_000 },
  });
  try {
    const target = { scope: "WORKSPACE" as const, workspaceId: bench.workspaceId };
    const names = Array.from({ length: SECRETS }, (_, i) => `secret-${i}`);
    for (const name of names)
      await bench.app.services.secrets.create(bench.caller, target, {
        name,
        type: "custom",
        values: [{ key: "TOKEN", value: `${name}-value-${"x".repeat(32)}` }],
      });
    const { token } = await bench.app.services.apiTokens.issue(
      bench.caller,
      { workspaceId: bench.workspaceId },
      { name: "bench", permissions: ["secrets:resolve"] },
    );
    const body = JSON.stringify({
      query: `mutation($i: ResolveSecretsInput!) { resolveSecrets(input: $i) { __typename ... on MutationResolveSecretsSuccess { data { arguments redactions } } } }`,
      variables: {
        i: {
          arguments: Object.fromEntries(names.map((n) => [n, `\${{ SECRETS.${n}.TOKEN }}`])),
          purpose: { workflowId: "bench", runId: "run", actionRef: "act" },
        },
      },
    });
    const graphql = async () => {
      const response = await bench.app.yoga.fetch("http://bench/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
      });
      const json = (await response.json()) as { data?: { resolveSecrets: { __typename: string } } };
      if (json.data?.resolveSecrets.__typename !== "MutationResolveSecretsSuccess")
        throw new Error(JSON.stringify(json).slice(0, 300));
    };

    const key = organizationKeyName(bench.organizationId);
    const pool = poolOf(bench.db);
    const usageLog = createUsageLog({ db: bench.db });
    const scopeKeys = usableScopeKeys(bench.workspaceId, null);
    const floor = async (complete = false) => {
      if (complete && !(await bench.app.services.apiTokens.authenticate(token, { cached: true })))
        throw new Error("token refused");
      const rows = await lookupSecrets(bench.db, {
        organizationId: bench.organizationId,
        scopeKeys,
        pairs: names.map((name) => ({ environment: "default", name })),
        withCiphertext: true,
      });
      await bench.transit.decrypt(
        key,
        rows.map((r) => r.ciphertext!),
      );
      const data = {
        workspaceId: bench.workspaceId,
        environment: "default",
        onBehalfOf: null,
        purpose: { workflowId: "bench", runId: "run", actionRef: "act" },
        secrets: rows.map((r) => ({
          secretId: r.id,
          name: r.name,
          scope: r.scope,
          environment: "default",
          version: r.currentVersion,
          keyNames: r.keyNames,
          dynamic: null,
        })),
      };
      const metadata = { actor: { kind: "token" as const, id: "bench" } };
      const event = { type: "SecretsResolved" as const, data };
      if (complete) {
        await usageLog.record({
          organizationId: bench.organizationId,
          workspaceId: bench.workspaceId,
          event,
          metadata,
          now: new Date(),
        });
        return;
      }
      // The chained append alone, in one statement of its own.
      const call = appendBatchCall(bench.organizationId, [
        { streamId: `bench-usage-${bench.workspaceId}`, event, metadata, now: new Date() },
      ]);
      await pool.query({
        name: "bench_core_append",
        text: `SELECT * FROM ${call.text}`,
        values: call.values,
      });
    };

    // The physical floor's rows: the same plaintexts, AES-256-GCM in process, one table.
    const admin = new pg.Client({ connectionString: bench.adminUrl });
    await admin.connect();
    await admin.query(`CREATE TABLE bench_physical (name text PRIMARY KEY, iv bytea, tag bytea, body bytea);
      CREATE TABLE bench_physical_events (position bigserial PRIMARY KEY, stream_id text NOT NULL, data jsonb NOT NULL);
      GRANT SELECT, INSERT ON bench_physical, bench_physical_events TO coffer_app;
      GRANT USAGE ON SEQUENCE bench_physical_events_position_seq TO coffer_app;`);
    await admin.end();
    const aesKey = randomBytes(32);
    for (const name of names) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", aesKey, iv);
      const body = Buffer.concat([
        cipher.update(`${name}-value-${"x".repeat(32)}`),
        cipher.final(),
      ]);
      await pool.query(`INSERT INTO bench_physical VALUES ($1, $2, $3, $4)`, [
        name,
        iv,
        cipher.getAuthTag(),
        body,
      ]);
    }
    const physical = async () => {
      const { rows } = await pool.query<{ iv: Buffer; tag: Buffer; body: Buffer }>({
        name: "bench_physical_select",
        text: `SELECT iv, tag, body FROM bench_physical WHERE name = ANY($1::text[])`,
        values: [names],
      });
      if (rows.length !== SECRETS) throw new Error("physical floor: rows missing");
      for (const row of rows) {
        const decipher = createDecipheriv("aes-256-gcm", aesKey, row.iv);
        decipher.setAuthTag(row.tag);
        Buffer.concat([decipher.update(row.body), decipher.final()]);
      }
      await pool.query({
        name: "bench_physical_insert",
        text: `INSERT INTO bench_physical_events (stream_id, data) VALUES ($1, $2)`,
        values: [bench.workspaceId, JSON.stringify({ names })],
      });
    };

    const time = async (run: () => Promise<void>) => {
      for (let i = 0; i < 50; i++) await run(); // warm-up
      const started = performance.now();
      for (let i = 0; i < ITERATIONS; i++) await run();
      return (performance.now() - started) / ITERATIONS;
    };
    // Interleave them to spread any drift of the machine over all three.
    const physicalRuns: number[] = [];
    const core: number[] = [];
    const complete: number[] = [];
    const graphqlRuns: number[] = [];
    for (let round = 0; round < 2; round++) {
      physicalRuns.push(await time(physical));
      core.push(await time(() => floor()));
      complete.push(await time(() => floor(true)));
      graphqlRuns.push(await time(graphql));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [physicalMs, coreMs, completeMs, graphqlMs] = [
      mean(physicalRuns),
      mean(core),
      mean(complete),
      mean(graphqlRuns),
    ];
    process.stdout.write(
      `physical floor (one indexed select, AES-256-GCM in process, one insert), ${SECRETS} secrets: ${physicalMs.toFixed(2)} ms/resolution\n` +
        `core floor (lookup + batch decrypt + event append), ${SECRETS} secrets: ${coreMs.toFixed(2)} ms/resolution\n` +
        `every-statement floor (+ token authentication + usage projection): ${completeMs.toFixed(2)} ms/resolution\n` +
        `resolveSecrets through GraphQL, ${SECRETS} secrets: ${graphqlMs.toFixed(2)} ms/resolution (${Math.round(1000 / graphqlMs)}/s, sequential)\n` +
        `ratio vs the core floor: ${(graphqlMs / coreMs).toFixed(2)} (goal: ≤ 1.50); vs every statement: ${(graphqlMs / completeMs).toFixed(2)}\n` +
        `ratio vs the physical floor: ${(graphqlMs / physicalMs).toFixed(2)} (goal: ≤ 3.00)\n`,
    );
  } finally {
    await bench.stop();
  }
}

runBench(main);
