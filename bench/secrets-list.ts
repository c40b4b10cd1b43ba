// SQL statements per page of a workspace's secrets, with every secret's versions:
//   npx tsx bench/secrets-list.ts     (or: npm run bench:secrets-list)
// Goal: the same constant for a page of 10 and a page of 100 (no N+1).
import { startBenchApp } from "./benchApp.ts";
import { runBench } from "./runBench.ts";

const SECRETS = 100;
const VERSIONS = 3;
const QUERY = `query($id: ID!, $first: Int!) { workspace(id: $id) { secrets(first: $first) { edges { node {
  id name scope environment type keyNames currentVersion createdAt
  versions { version keyNames origin createdAt pruned transitKeyVersion } } } } } }`;

async function main(): Promise<void> {
  const bench = await startBenchApp();
  try {
    const target = { scope: "WORKSPACE" as const, workspaceId: bench.workspaceId };
    for (let i = 0; i < SECRETS; i++) {
      const { secret } = await bench.app.services.secrets.create(bench.caller, target, {
        name: `secret-${String(i).padStart(3, "0")}`,
        type: "custom",
        values: [{ key: "K", value: `v${i}` }],
      });
      for (let v = 2; v <= VERSIONS; v++)
        await bench.app.services.secrets.rotate(bench.caller, secret.id, {
          values: [{ key: "K", value: `v${i}.${v}` }],
        });
    }
    const { encodeGlobalID } = await import("@pothos/plugin-relay");
    const workspace = encodeGlobalID("Workspace", bench.workspaceId);
    const counts: Record<number, number> = {};
    for (const first of [10, 100, 10, 100]) {
      bench.takeStatementCount();
      const response = await bench.app.yoga.fetch("http://bench/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", cookie: bench.cookie },
        body: JSON.stringify({ query: QUERY, variables: { id: workspace, first } }),
      });
      const body = (await response.json()) as {
        data?: { workspace: { secrets: { edges: { node: { versions: unknown[] } }[] } } };
        errors?: unknown;
      };
      const edges = body.data?.workspace.secrets.edges ?? [];
      if (edges.length !== first || edges.some((e) => e.node.versions.length !== VERSIONS))
        throw new Error(`unexpected page: ${JSON.stringify(body).slice(0, 300)}`);
      counts[first] = bench.takeStatementCount(); // the second round (warm) is the one kept
    }
    process.stdout.write(
      `SQL statements for a page of 10 secrets with ${VERSIONS} versions each: ${counts[10]}\n`,
    );
    process.stdout.write(
      `SQL statements for a page of 100 secrets with ${VERSIONS} versions each: ${counts[100]}\n`,
    );
    process.stdout.write(
      `ratio: ${(counts[100]! / counts[10]!).toFixed(2)} (goal: 1.00, constant)\n`,
    );
  } finally {
    await bench.stop();
  }
}

runBench(main);
