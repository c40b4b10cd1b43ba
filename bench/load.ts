// A bounded load test over loopback HTTP:
//   npx tsx bench/load.ts [--clients 200] [--seconds 60] [--secrets 50] [--replicas 1]
//                         [--cpu-prof <dir>]   (V8 CPU profiles of the servers, written at exit)
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
//
// --replicas N (N > 1) starts N server processes on the one PostgreSQL and runs two
// phases of --seconds each: all clients on the first replica, then clients spread
// round-robin over all N. It prints CPU per request for both and their ratio; the chain
// and usage-event checks cover both phases.
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
      replicas: { type: "string", default: "1" },
      "cpu-prof": { type: "string" },
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
    replicas: positive("replicas", values.replicas),
    cpuProfileDir: values["cpu-prof"],
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

  /** Adds another phase's figures to these. */
  merge(other: Stats): void {
    for (const [op, list] of other.latencies) this.latencies.get(op)!.push(...list);
    for (const [kind, n] of other.errors) this.errors.set(kind, (this.errors.get(kind) ?? 0) + n);
    for (const [op, n] of other.errorsByOperation)
      this.errorsByOperation.set(op, (this.errorsByOperation.get(op) ?? 0) + n);
    for (const [kind, text] of other.samples)
      if (!this.samples.has(kind)) this.samples.set(kind, text);
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

function createClient(ready: Ready, origin: string, secretIds: string[], stats: Stats) {
  const url = `${origin}/graphql`;
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

/** One server child process (bench/loadServer.ts) and its IPC messages, taken in order. */
function forkServer(args: string[], cpuProfileDir: string | undefined) {
  const child = fork(path.join(import.meta.dirname, "loadServer.ts"), args, {
    cwd: path.resolve(import.meta.dirname, ".."),
    execArgv: [
      "--import",
      "tsx",
      "--expose-gc",
      ...(cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : []),
    ],
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
  return {
    child,
    /** The first message of `type` not taken yet. */
    async next<T extends ServerMessage["type"]>(type: T, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = messages.findIndex((m) => m.type === type);
        if (index >= 0) return messages.splice(index, 1)[0] as Extract<ServerMessage, { type: T }>;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the server process exited (${child.exitCode ?? child.signalCode})`);
        if (Date.now() > deadline)
          throw new Error(`no "${type}" from the server in ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 1000);
        });
      }
    },
    tell(message: ParentMessage) {
      if (child.connected) child.send(message);
    },
    async stop() {
      this.tell({ type: "stop" });
      const code = await Promise.race([
        exited,
        new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 30_000).unref()),
      ]);
      if (code === "timeout") child.kill("SIGKILL");
    },
  };
}

type Server = ReturnType<typeof forkServer>;

/** What one phase of load measured: requests per operation, and the servers' CPU. */
type Phase = { replicas: number; elapsed: number; total: number; cpuMs: number[] };

async function main(): Promise<number> {
  const { clients, seconds, secrets, replicas, cpuProfileDir } = options();
  const out = (line = "") => process.stdout.write(`${line}\n`);

  const servers: Server[] = [forkServer([String(secrets)], cpuProfileDir)];
  // Whatever happens, the run ends: the load phases, the drain and the checks get this long.
  const phases = replicas > 1 ? [1, replicas] : [1];
  const hardDeadline = setTimeout(
    () => {
      console.error("hard deadline reached: stopping the servers and exiting");
      for (const s of servers) s.child.kill("SIGTERM");
      setTimeout(() => servers.forEach((s) => s.child.kill("SIGKILL")), 10_000).unref();
      setTimeout(() => process.exit(1), 11_000).unref();
    },
    (seconds * phases.length + 240) * 1000,
  );
  hardDeadline.unref();

  try {
    const primary = servers[0]!;
    const ready = await primary.next("ready", 120_000);
    const origins = [ready.origin];
    for (let i = 1; i < replicas; i++) {
      const replica = forkServer(
        [String(secrets), "--attach", JSON.stringify(ready.attach)],
        cpuProfileDir,
      );
      servers.push(replica);
      origins.push((await replica.next("replica-ready", 120_000)).origin);
    }
    const stats = new Stats();
    const setup = createClient(ready, ready.origin, [], stats);
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
      `servers: ${replicas} child process${replicas > 1 ? "es" : ""} (pids ${servers.map((s) => s.child.pid).join(", ")}) on one embedded PostgreSQL, rate limits counted in it; the load generator is this process (pid ${process.pid})`,
    );
    if (replicas > 1)
      out(
        `phases: ${seconds} s on 1 replica, then ${seconds} s spread round-robin over ${replicas} (clients pinned to a replica each, keep-alive)`,
      );

    const measured: Phase[] = [];
    for (const serving of phases) {
      const phaseStats = new Stats();
      for (const s of servers) s.tell({ type: "mark" });
      for (const s of servers) await s.next("marked", 30_000);
      const started = performance.now();
      const until = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: clients }, (_, i) =>
          createClient(ready, origins[i % serving]!, secretIds, phaseStats).run(until),
        ),
      );
      const elapsed = (performance.now() - started) / 1000;
      for (const s of servers) s.tell({ type: "cpu" });
      const cpuMs: number[] = [];
      for (const s of servers) cpuMs.push((await s.next("cpu", 30_000)).cpuMs);
      out();
      out(`— ${serving} replica${serving > 1 ? "s" : ""} serving —`);
      const total = printTable(out, phaseStats, elapsed);
      const sum = cpuMs.reduce((a, b) => a + b, 0);
      out(
        `server CPU during the load: ${(sum / 1000).toFixed(1)} s over ${elapsed.toFixed(1)} s (${((sum / 1000 / elapsed) * 100).toFixed(0)}% of one core${serving > 1 ? `; per replica ${cpuMs.map((c) => `${((c / 1000 / elapsed) * 100).toFixed(0)}%`).join(", ")}` : ""}), CPU per request ${(sum / Math.max(1, total)).toFixed(2)} ms (floor ≤ 1.0 ms)`,
      );
      stats.merge(phaseStats);
      measured.push({ replicas: serving, elapsed, total, cpuMs });
    }

    primary.tell({ type: "report" });
    const report: Report = await primary.next("report", 120_000);
    out();
    out(`errors: ${stats.errorCount === 0 ? "none" : ""}`);
    for (const [kind, count] of [...stats.errors].sort((a, b) => b[1] - a[1]))
      out(`  ${String(count).padStart(6)}  ${kind}   e.g. ${stats.samples.get(kind)}`);
    out();
    out(`first server's memory before load (after GC): ${formatMemory(ready.memory)}`);
    out(`first server's memory after load:             ${formatMemory(report.memoryAfter)}`);
    out(
      `first server's memory after load and a GC:    ${report.memoryAfterGc ? formatMemory(report.memoryAfterGc) : "(gc not exposed)"}`,
    );
    out(`load generator memory after load:             ${formatMemory(process.memoryUsage())}`);
    out(
      `app's PostgreSQL sessions (a pool of 10 per replica), average of ${report.sessions.samples} samples: ${report.sessions.active.toFixed(1)} running a statement, ${report.sessions.waitingForLock.toFixed(1)} of them waiting for a lock, ${report.sessions.idleInTransaction.toFixed(1)} idle in a transaction (waiting for the app)`,
    );
    out(
      `first server's event loop delay (beyond its 10 ms sampling): p50 ${report.eventLoopDelay.p50.toFixed(1)} ms, p99 ${report.eventLoopDelay.p99.toFixed(1)} ms, max ${report.eventLoopDelay.max.toFixed(1)} ms`,
    );
    out();
    const resolutions = stats.latencies.get("resolveSecrets")!.length;
    const rotations = stats.latencies.get("rotateSecret")!.length;
    const usageOk = report.usageEvents.resolved === resolutions && report.usageEvents.failed === 0;
    const rotationsOk = report.rotations === rotations;
    out(
      `audit chain: ${report.chain.ok ? "verifies" : "BROKEN"} (${report.chain.eventCount} events, one chain for every replica, ${report.chain.detail})`,
    );
    out(
      `usage events: ${report.usageEvents.resolved} SecretsResolved for ${resolutions} successful resolutions, ${report.usageEvents.failed} SecretsResolutionFailed: ${usageOk ? "match" : "MISMATCH"}`,
    );
    out(
      `rotations: ${report.rotations} versions added for ${rotations} successful rotateSecret: ${rotationsOk ? "match" : "MISMATCH"}`,
    );
    if (measured.length > 1) {
      const perRequest = (p: Phase) => p.cpuMs.reduce((a, b) => a + b, 0) / Math.max(1, p.total);
      const [one, many] = [measured[0]!, measured.at(-1)!];
      out(
        `scale-out: ${(many.total / many.elapsed).toFixed(0)} req/s on ${many.replicas} replicas vs ${(one.total / one.elapsed).toFixed(0)} on 1 (${(many.total / many.elapsed / (one.total / one.elapsed)).toFixed(2)}×); CPU per request ${perRequest(many).toFixed(2)} vs ${perRequest(one).toFixed(2)} ms: ${(perRequest(many) / perRequest(one)).toFixed(2)}× (floor ≤ 1.2×)`,
      );
    }
    const passed = stats.errorCount === 0 && report.chain.ok && usageOk && rotationsOk;
    out(passed ? "result: PASS" : "result: FAIL");
    return passed ? 0 : 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Prints the per-operation table of one phase; answers how many requests succeeded. */
function printTable(out: (line?: string) => void, stats: Stats, elapsed: number): number {
  out(
    `${"operation".padEnd(16)} ${"ok".padStart(8)} ${"req/s".padStart(8)} ${"errors".padStart(7)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)}`,
  );
  let total = 0;
  for (const [op] of MIX) {
    const sorted = [...stats.latencies.get(op)!].sort((a, b) => a - b);
    total += sorted.length;
    const cell = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(1)).padStart(8);
    out(
      `${op.padEnd(16)} ${String(sorted.length).padStart(8)} ${(sorted.length / elapsed).toFixed(1).padStart(8)} ${String(stats.errorsByOperation.get(op) ?? 0).padStart(7)} ${cell(percentile(sorted, 50))} ${cell(percentile(sorted, 95))} ${cell(percentile(sorted, 99))} ${cell(sorted.at(-1) ?? NaN)}`,
    );
  }
  out(
    `${"all".padEnd(16)} ${String(total).padStart(8)} ${(total / elapsed).toFixed(1).padStart(8)} ${String(stats.errorCount).padStart(7)}   (${elapsed.toFixed(1)} s, in-flight requests included)`,
  );
  return total;
}

runBench(main);
