// GraphQL resolution of 10 secrets against its raw floor, measured in the same run:
//   npx tsx bench/resolve.ts     (or: npm run bench:resolve)
// Two floors, done directly and measured in the same run:
//  - core: the same lookup statement, one transit batch decrypt, one usage event appended
//    (one statement, as the service does);
//  - every statement: the core plus the two statements the service must also send (the
//    token's authentication, and the usage projection in the append's statement).
// Against the core floor the GraphQL path adds those two statements, authorization,
// parsing, execution and the response; against the second, only the GraphQL/HTTP layer.
// Goal: ratio ≤ 1.5.
import { randomUUID } from "node:crypto";
import { usageProjection } from "../server/src/resolution/projectUsage.ts";
import { Prisma } from "../server/src/generated/prisma/client.ts";
import { performance } from "node:perf_hooks";
import { appendAlone } from "../server/src/eventstore/append.ts";
import { lookupSecrets, usableScopeKeys } from "../server/src/resolution/lookupSecrets.ts";
import { organizationKeyName } from "../server/src/transit/Transit.ts";
import { startBenchApp } from "./benchApp.ts";
import { runBench } from "./runBench.ts";

const SECRETS = 10;
const ITERATIONS = 400;

async function main(): Promise<void> {
  const bench = await startBenchApp();
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
    const scopeKeys = usableScopeKeys(bench.workspaceId, null);
    const floor = async (complete = false) => {
      if (complete && !(await bench.app.services.apiTokens.authenticate(token)))
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
      const now = new Date();
      // The append in one statement of its own, as the service does; with the projection in
      // that same statement for the complete floor.
      await appendAlone(
        bench.db,
        {
          streamId: `bench-usage-${bench.workspaceId}`,
          organizationId: bench.organizationId,
          expectedVersion: "any",
          events: [{ type: "SecretsResolved", data }],
          metadata,
          now,
        },
        complete
          ? usageProjection(
              { organizationId: bench.organizationId, data, metadata, occurredAt: now },
              Prisma.sql`(SELECT event_position FROM appended)`,
              randomUUID,
            )
          : undefined,
      );
    };

    const time = async (run: () => Promise<void>) => {
      for (let i = 0; i < 50; i++) await run(); // warm-up
      const started = performance.now();
      for (let i = 0; i < ITERATIONS; i++) await run();
      return (performance.now() - started) / ITERATIONS;
    };
    // Interleave them to spread any drift of the machine over all three.
    const core: number[] = [];
    const complete: number[] = [];
    const graphqlRuns: number[] = [];
    for (let round = 0; round < 2; round++) {
      core.push(await time(() => floor()));
      complete.push(await time(() => floor(true)));
      graphqlRuns.push(await time(graphql));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [coreMs, completeMs, graphqlMs] = [mean(core), mean(complete), mean(graphqlRuns)];
    process.stdout.write(
      `core floor (lookup + batch decrypt + event append), ${SECRETS} secrets: ${coreMs.toFixed(2)} ms/resolution\n` +
        `every-statement floor (+ token authentication + usage projection): ${completeMs.toFixed(2)} ms/resolution\n` +
        `resolveSecrets through GraphQL, ${SECRETS} secrets: ${graphqlMs.toFixed(2)} ms/resolution (${Math.round(1000 / graphqlMs)}/s, sequential)\n` +
        `ratio vs the core floor: ${(graphqlMs / coreMs).toFixed(2)} (goal: ≤ 1.50); vs every statement: ${(graphqlMs / completeMs).toFixed(2)}\n`,
    );
  } finally {
    await bench.stop();
  }
}

runBench(main);
