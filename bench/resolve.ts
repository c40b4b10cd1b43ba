// GraphQL resolution of 10 secrets against its raw floor, measured in the same run:
//   npx tsx bench/resolve.ts     (or: npm run bench:resolve)
// Floor = what a resolution cannot avoid, done directly: the same lookup statement, one
// transit batch decrypt, one usage event appended in a transaction. The GraphQL path adds
// token authentication, authorization, parsing, the usage projection and the response.
// Goal: ratio ≤ 1.5.
import { performance } from "node:perf_hooks";
import { appendToStream } from "../server/src/eventstore/append.ts";
import { lookupSecrets, usableScopeKeys } from "../server/src/resolution/lookupSecrets.ts";
import { organizationKeyName } from "../server/src/transit/Transit.ts";
import { startBenchApp } from "./benchApp.ts";

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
    const floor = async () => {
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
      await bench.db.$transaction((tx) =>
        appendToStream(tx, {
          streamId: `bench-usage-${bench.workspaceId}`,
          organizationId: bench.organizationId,
          expectedVersion: "any",
          events: [
            {
              type: "SecretsResolved",
              data: { secrets: rows.map((r) => ({ secretId: r.id, version: r.currentVersion })) },
            },
          ],
          metadata: { actor: { kind: "token", id: "bench" } },
          now: new Date(),
        }),
      );
    };

    const time = async (run: () => Promise<void>) => {
      for (let i = 0; i < 50; i++) await run(); // warm-up
      const started = performance.now();
      for (let i = 0; i < ITERATIONS; i++) await run();
      return (performance.now() - started) / ITERATIONS;
    };
    // Interleave the two to spread any drift of the machine over both.
    const a1 = await time(floor);
    const b1 = await time(graphql);
    const a2 = await time(floor);
    const b2 = await time(graphql);
    const rawMs = (a1 + a2) / 2;
    const graphqlMs = (b1 + b2) / 2;
    process.stdout.write(
      `raw floor (lookup + batch decrypt + event append), ${SECRETS} secrets: ${rawMs.toFixed(2)} ms/resolution\n`,
    );
    process.stdout.write(
      `resolveSecrets through GraphQL, ${SECRETS} secrets: ${graphqlMs.toFixed(2)} ms/resolution (${Math.round(1000 / graphqlMs)}/s, sequential)\n`,
    );
    process.stdout.write(`ratio: ${(graphqlMs / rawMs).toFixed(2)} (goal: ≤ 1.50)\n`);
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
