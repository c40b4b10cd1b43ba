// A bounded load test over loopback HTTP:
//   npx tsx bench/load.ts [--clients 200] [--seconds 60] [--secrets 50]
// N concurrent clients, each looping over a weighted mix of resolveSecrets (most), a page
// of the workspace's secrets, and rotateSecret (few), with one API token, for S seconds.
// Prints requests/s and latency percentiles per operation, errors by kind, the server's
// memory before and after, and whether the audit chain verifies and every successful
// resolution left exactly one usage event. Exit code 1 on any error or failed check.
//
// The server (embedded PostgreSQL, the real app, the real HTTP server on 127.0.0.1) runs in
// a child process, bench/loadServer.ts. In one process the clients' own work (building
// requests, parsing answers, keeping latencies) would share the server's event loop and
// heap: latencies would include queueing behind client code and the memory figures would
// be the load generator's as much as the server's. As a child it also always gets
// --expose-gc, and a server that hangs can be killed by the hard deadline.
import { fork } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Memory, ParentMessage, ServerMessage } from "./loadServer.ts";
import { runBench } from "./runBench.ts";

type Ready = Extract<ServerMessage, { type: "ready" }>;
type Report = Extract<ServerMessage, { type: "report" }>;
type Operation = "resolveSecrets" | "listSecrets" | "rotateSecret";

/** Out of 100 requests: a platform resolves far more often than anyone lists or rotates. */
const MIX: [Operation, number][] = [
  ["resolveSecrets", 85],
  ["listSecrets", 12],
  ["rotateSecret", 3],
];
const NAMES_PER_RESOLUTION = 5;
const REQUEST_TIMEOUT_MS = 30_000;

const RESOLVE = `mutation Resolve($i: ResolveSecretsInput!) { resolveSecrets(input: $i) {
  __typename
  ... on MutationResolveSecretsSuccess { data { arguments usageEventPosition } }
  ... on Error { code message } } }`;
const LIST = `query List($id: ID!, $first: Int!) { workspace(id: $id) { secrets(first: $first) {
  edges { node { id name environment type keyNames currentVersion lastUsedAt } } } } }`;
const ROTATE = `mutation Rotate($i: RotateSecretInput!) { rotateSecret(input: $i) {
  __typename
  ... on MutationRotateSecretSuccess { data { secret { currentVersion } } }
  ... on Error { code message } } }`;

function options() {
  const { values } = parseArgs({
    options: {
      clients: { type: "string", default: "200" },
      seconds: { type: "string", default: "60" },
      secrets: { type: "string", default: "50" },
    },
    strict: true,
  });
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const secrets = positive("secrets", values.secrets);
  if (secrets < NAMES_PER_RESOLUTION)
    throw new Error(`--secrets must be at least ${NAMES_PER_RESOLUTION}`);
  return {
    clients: positive("clients", values.clients),
    seconds: positive("seconds", values.seconds),
    secrets,
  };
}

/** Latencies and failures per operation; an error kind is e.g. `HTTP 500` or `typed ConflictError`. */
class Stats {
  readonly latencies = new Map<Operation, number[]>(MIX.map(([op]) => [op, []]));
  readonly errors = new Map<string, number>();
  readonly errorsByOperation = new Map<Operation, number>();
  readonly samples = new Map<string, string>();

  ok(op: Operation, ms: number): void {
    this.latencies.get(op)!.push(ms);
  }

  fail(op: Operation, kind: string, sample: string): void {
    const key = `${op}: ${kind}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    this.errorsByOperation.set(op, (this.errorsByOperation.get(op) ?? 0) + 1);
    if (!this.samples.has(key)) this.samples.set(key, sample.slice(0, 300));
  }

  get errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }
}

class RequestFailure extends Error {
  constructor(
    readonly kind: string,
    sample: string,
  ) {
    super(sample);
  }
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function pickOperation(): Operation {
  let roll = Math.random() * 100;
  for (const [op, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return op;
  }
  return MIX[0]![0];
}

/** Distinct random names, `count` of them. */
function sample(names: readonly string[], count: number): string[] {
  const chosen = new Set<string>();
  while (chosen.size < count) chosen.add(pick(names));
  return [...chosen];
}

function createClient(ready: Ready, secretIds: string[], stats: Stats) {
  const url = `${ready.origin}/graphql`;
  const headers = {
    "content-type": "application/json",
    authorization: `Bearer ${ready.token}`,
  };

  /** One GraphQL request; throws a RequestFailure naming the kind of failure. */
  async function graphql(query: string, variables: object): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      // Node's fetch keeps connections alive and reuses them (undici's global agent).
      response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const name = error instanceof Error ? error.name : "Error";
      throw new RequestFailure(`network ${cause?.code ?? name}`, String(error));
    }
    const text = await response.text();
    if (response.status !== 200) throw new RequestFailure(`HTTP ${response.status}`, text);
    const body = JSON.parse(text) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    if (body.errors?.length) {
      const codes = [...new Set(body.errors.map((e) => e.extensions?.code ?? "no code"))];
      throw new RequestFailure(`GraphQL error ${codes.join(",")}`, text);
    }
    if (!body.data) throw new RequestFailure("no data", text);
    return body.data;
  }

  /** A field that is a result union: anything but its Success member is a typed error. */
  function success<T>(data: Record<string, unknown>, field: string): T {
    const result = data[field] as { __typename: string; data?: T };
    if (!result.__typename.endsWith("Success"))
      throw new RequestFailure(`typed ${result.__typename}`, JSON.stringify(result));
    return result.data!;
  }

  const operations: Record<Operation, () => Promise<void>> = {
    async resolveSecrets() {
      const names = sample(ready.secretNames, NAMES_PER_RESOLUTION);
      const data = await graphql(RESOLVE, {
        i: {
          arguments: Object.fromEntries(names.map((n) => [n, `\${{ SECRETS.${n}.TOKEN }}`])),
          purpose: { workflowId: "load", runId: "run", actionRef: "act" },
        },
      });
      const resolved = success<{ arguments: Record<string, string> }>(data, "resolveSecrets");
      // Values carry their secret's name: a value of another secret would be a real bug.
      for (const name of names)
        if (!resolved.arguments[name]?.startsWith(`${name}-v`))
          throw new RequestFailure("wrong value", `${name} resolved to another secret's value`);
    },
    async listSecrets() {
      const data = await graphql(LIST, { id: ready.workspaceId, first: ready.secretNames.length });
      const edges = (data.workspace as { secrets: { edges: unknown[] } }).secrets.edges;
      if (edges.length !== ready.secretNames.length)
        throw new RequestFailure("short page", `${edges.length} secrets listed`);
    },
    async rotateSecret() {
      const index = Math.floor(Math.random() * secretIds.length);
      const data = await graphql(ROTATE, {
        i: {
          id: secretIds[index],
          values: [{ key: "TOKEN", value: `${ready.secretNames[index]}-v-${Math.random()}` }],
        },
      });
      success(data, "rotateSecret");
    },
  };

  return {
    graphql,
    async run(until: number): Promise<void> {
      while (performance.now() < until) {
        const op = pickOperation();
        const started = performance.now();
        try {
          await operations[op]();
          stats.ok(op, performance.now() - started);
        } catch (error) {
          if (error instanceof RequestFailure) stats.fail(op, error.kind, error.message);
          else stats.fail(op, `client ${(error as Error).name}`, String(error));
        }
      }
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const formatMemory = (m: Memory) =>
  `RSS ${mib(m.rss)}, heap used ${mib(m.heapUsed)} of ${mib(m.heapTotal)}`;

async function main(): Promise<number> {
  const { clients, seconds, secrets } = options();
  const out = (line = "") => process.stdout.write(`${line}\n`);

  const child = fork(path.join(import.meta.dirname, "loadServer.ts"), [String(secrets)], {
    cwd: path.resolve(import.meta.dirname, ".."),
    execArgv: ["--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  child.on("message", (message: ServerMessage) => {
    messages.push(message);
    waiters.splice(0).forEach((wake) => wake());
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  void exited.then(() => waiters.splice(0).forEach((wake) => wake()));
  const next = async <T extends ServerMessage["type"]>(type: T, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find((m) => m.type === type);
      if (found) return found as Extract<ServerMessage, { type: T }>;
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the server process exited (${child.exitCode ?? child.signalCode})`);
      if (Date.now() > deadline) throw new Error(`no "${type}" from the server in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  };
  const tell = (message: ParentMessage) => {
    if (child.connected) child.send(message);
  };

  // Whatever happens, the run ends: the load phase, the drain and the checks get this long.
  const hardDeadline = setTimeout(
    () => {
      console.error("hard deadline reached: stopping the server and exiting");
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      setTimeout(() => process.exit(1), 11_000).unref();
    },
    (seconds + 180) * 1000,
  );
  hardDeadline.unref();

  try {
    const ready = await next("ready", 120_000);
    const stats = new Stats();
    const setup = createClient(ready, [], stats);
    const page = await setup.graphql(LIST, { id: ready.workspaceId, first: secrets });
    const nodes = (
      page.workspace as { secrets: { edges: { node: { id: string; name: string } }[] } }
    ).secrets.edges;
    const idByName = new Map(nodes.map((e) => [e.node.name, e.node.id]));
    const secretIds = ready.secretNames.map((name) => idByName.get(name)!);

    out(
      `load: ${clients} clients for ${seconds} s over loopback HTTP (keep-alive), one API token, ${secrets} secrets, ${NAMES_PER_RESOLUTION} per resolution`,
    );
    out(`mix: ${MIX.map(([op, w]) => `${op} ${w}%`).join(", ")}`);
    out(
      `server: child process (pid ${child.pid}) with its embedded PostgreSQL; the load generator is this process (pid ${process.pid})`,
    );
    out();

    const started = performance.now();
    const until = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, () => createClient(ready, secretIds, stats).run(until)),
    );
    const elapsed = (performance.now() - started) / 1000;

    tell({ type: "report" });
    const report: Report = await next("report", 120_000);

    out(
      `${"operation".padEnd(16)} ${"ok".padStart(8)} ${"req/s".padStart(8)} ${"errors".padStart(7)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)}`,
    );
    let total = 0;
    for (const [op] of MIX) {
      const sorted = stats.latencies.get(op)!.sort((a, b) => a - b);
      total += sorted.length;
      const cell = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(1)).padStart(8);
      out(
        `${op.padEnd(16)} ${String(sorted.length).padStart(8)} ${(sorted.length / elapsed).toFixed(1).padStart(8)} ${String(stats.errorsByOperation.get(op) ?? 0).padStart(7)} ${cell(percentile(sorted, 50))} ${cell(percentile(sorted, 95))} ${cell(percentile(sorted, 99))} ${cell(sorted.at(-1) ?? NaN)}`,
      );
    }
    out(
      `${"all".padEnd(16)} ${String(total).padStart(8)} ${(total / elapsed).toFixed(1).padStart(8)} ${String(stats.errorCount).padStart(7)}   (${elapsed.toFixed(1)} s, in-flight requests included)`,
    );
    out();
    out(`errors: ${stats.errorCount === 0 ? "none" : ""}`);
    for (const [kind, count] of [...stats.errors].sort((a, b) => b[1] - a[1]))
      out(`  ${String(count).padStart(6)}  ${kind}   e.g. ${stats.samples.get(kind)}`);
    out();
    out(`server memory before load (after GC): ${formatMemory(ready.memory)}`);
    out(`server memory after load:             ${formatMemory(report.memoryAfter)}`);
    out(
      `server memory after load and a GC:    ${report.memoryAfterGc ? formatMemory(report.memoryAfterGc) : "(gc not exposed)"}`,
    );
    out(`load generator memory after load:     ${formatMemory(process.memoryUsage())}`);
    out(
      `server CPU during the load: ${(report.cpuMs / 1000).toFixed(1)} s over ${elapsed.toFixed(1)} s (${((report.cpuMs / 1000 / elapsed) * 100).toFixed(0)}% of one core), ${(report.cpuMs / Math.max(1, total)).toFixed(2)} ms per request`,
    );
    out(
      `app's PostgreSQL sessions (pool of 10), average of ${report.sessions.samples} samples: ${report.sessions.active.toFixed(1)} running a statement, ${report.sessions.waitingForLock.toFixed(1)} of them waiting for a lock, ${report.sessions.idleInTransaction.toFixed(1)} idle in a transaction (waiting for the app)`,
    );
    out(
      `server event loop delay (beyond its 10 ms sampling): p50 ${report.eventLoopDelay.p50.toFixed(1)} ms, p99 ${report.eventLoopDelay.p99.toFixed(1)} ms, max ${report.eventLoopDelay.max.toFixed(1)} ms`,
    );
    out();
    const resolutions = stats.latencies.get("resolveSecrets")!.length;
    const rotations = stats.latencies.get("rotateSecret")!.length;
    const usageOk = report.usageEvents.resolved === resolutions && report.usageEvents.failed === 0;
    const rotationsOk = report.rotations === rotations;
    out(
      `audit chain: ${report.chain.ok ? "verifies" : "BROKEN"} (${report.chain.eventCount} events, ${report.chain.detail})`,
    );
    out(
      `usage events: ${report.usageEvents.resolved} SecretsResolved for ${resolutions} successful resolutions, ${report.usageEvents.failed} SecretsResolutionFailed: ${usageOk ? "match" : "MISMATCH"}`,
    );
    out(
      `rotations: ${report.rotations} versions added for ${rotations} successful rotateSecret: ${rotationsOk ? "match" : "MISMATCH"}`,
    );
    const passed = stats.errorCount === 0 && report.chain.ok && usageOk && rotationsOk;
    out(passed ? "result: PASS" : "result: FAIL");
    return passed ? 0 : 1;
  } finally {
    tell({ type: "stop" });
    const code = await Promise.race([
      exited,
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 30_000).unref()),
    ]);
    if (code === "timeout") child.kill("SIGKILL");
  }
}

runBench(main);
