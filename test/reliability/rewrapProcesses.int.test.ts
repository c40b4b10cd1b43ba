import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RewrapChildOptions } from "./rewrapChild.ts";
import { RESOLVE } from "../testkit/resolveOps.ts";
import { asInput } from "../testkit/secretOps.ts";
import { startTestApp, type Auth, type TestApp } from "../testkit/testApp.ts";

/**
 * Re-wrap jobs across processes: the runner of a job is a lease holder (secrets/
 * rewrapLease.ts), so a job whose runner was SIGKILLed is finished by another process's
 * sweep once the lease lapses, and a runner that was only paused (SIGSTOP) past its lease
 * writes nothing when it wakes up: its fencing token is no longer the job's.
 * Every process shares the one test database and one LocalTransit keyring.
 */

const decode = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;
const ROTATE_KEY = `mutation($id: ID!) { rotateTransitKey(organizationId: $id) { __typename ... on MutationRotateTransitKeySuccess { data { latestVersion } } } }`;
const KEY_STATUS = `query($id: ID!) { organization(id: $id) { transitKey { latestVersion minDecryptionVersion ciphertextsByVersion { keyVersion count } latestRewrapJob { id status total rewrapped lastError } } } }`;
const VERIFY = `query($org: ID!) { verifyAuditChain(organizationId: $org) { __typename ... on QueryVerifyAuditChainSuccess { data { ok firstBadPosition } } } }`;
const CREATE = `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`;

const SECRETS = 40;
const BATCH = 4;
const LEASE_MS = 1_000;
const masterKey = randomBytes(32);
let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
let token: Auth;
let organizationId: string;

beforeAll(async () => {
  t = await startTestApp({ masterKey, tuning: { rewrapBatchSize: BATCH } });
  tenant = await t.createTenant();
  organizationId = decode(tenant.organizationId);
  token = {
    token: (
      await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
    ).token,
  };
  for (let i = 0; i < SECRETS; i++) {
    const created = await t.gql(
      CREATE,
      {
        i: {
          workspaceId: tenant.workspaceId,
          name: `s-${i}`,
          values: asInput({ K: `value-${i}` }),
        },
      },
      tenant.session,
    );
    expect(created.data.createSecret.__typename).toBe("MutationCreateSecretSuccess");
  }
});
afterAll(() => t?.close());

/** A re-wrap process (rewrapChild.ts) and what it printed. */
function startChild(mode: RewrapChildOptions["mode"], rewrapDelayMs: number, waitForGo = false) {
  const options: RewrapChildOptions = {
    waitForGo,
    mode,
    databaseUrl: t.database.appUrl,
    masterKeyHex: masterKey.toString("hex"),
    organizationId,
    userId: tenant.owner.userId,
    batchSize: BATCH,
    rewrapDelayMs,
    leaseMs: LEASE_MS,
  };
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      fileURLToPath(new URL("./rewrapChild.ts", import.meta.url)),
      JSON.stringify(options),
    ],
    { stdio: [waitForGo ? "pipe" : "ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code)),
  );
  return {
    child,
    exited,
    output: () => output,
    go: () => child.stdin?.end("go\n"),
  };
}

async function rotate(): Promise<number> {
  const rotated = await t.gql(ROTATE_KEY, { id: tenant.organizationId }, tenant.session);
  return rotated.data.rotateTransitKey.data.latestVersion as number;
}

const onVersion = async (version: number) =>
  (
    await t.database.admin<{ n: number }>(
      `SELECT count(*)::int AS n FROM secret_versions WHERE organization_id = $1 AND ciphertext IS NOT NULL AND key_version = $2`,
      [organizationId, version],
    )
  )[0]!.n;

const jobRow = async () =>
  (
    await t.database.admin<{ id: string; status: string; total: number; rewrapped: number }>(
      `SELECT id, status, total, rewrapped FROM rewrap_jobs WHERE organization_id = $1 ORDER BY started_at DESC LIMIT 1`,
      [organizationId],
    )
  )[0]!;

/** Waits (bounded) until part of the ciphertexts moved to `target`, well before all. */
async function partway(target: number, child: ReturnType<typeof startChild>) {
  for (let i = 0; ; i++) {
    const moved = await onVersion(target);
    if (moved >= SECRETS / 4) return;
    if (i > 600 || child.child.exitCode !== null)
      throw new Error(`the child made no progress (${moved} moved): ${child.output()}`);
    await sleep(10);
  }
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(25);
  }
  throw new Error(`${what} did not happen within 15 s`);
}

/** Every ciphertext on `target`, the key refusing older ones, one completion, values intact. */
async function expectFinishedOnce(jobId: string, target: number) {
  const status = (await t.gql(KEY_STATUS, { id: tenant.organizationId }, tenant.session)).data
    .organization.transitKey;
  expect(status).toMatchObject({
    latestVersion: target,
    minDecryptionVersion: target,
    ciphertextsByVersion: [{ keyVersion: target, count: SECRETS }],
    latestRewrapJob: {
      id: jobId,
      status: "COMPLETED",
      total: SECRETS,
      rewrapped: SECRETS,
      lastError: null,
    },
  });
  const completions = await t.database.admin<{ type: string; job: string }>(
    `SELECT type, data->>'jobId' AS job FROM events WHERE stream_id = $1 AND data->>'jobId' = $2 ORDER BY position`,
    [`transit-key-${organizationId}`, jobId],
  );
  expect(completions.map((r) => r.type)).toEqual([
    "SecretsRewrapStarted",
    "TransitKeyMinimumRaised",
    "SecretsRewrapCompleted",
  ]);
  const refs = Array.from({ length: SECRETS }, (_, i) => ({ name: `s-${i}`, key: "K" }));
  const resolved = await t.gql(RESOLVE, { i: { refs } }, token);
  expect(resolved.data.resolveSecrets.__typename).toBe("MutationResolveSecretsSuccess");
  expect(resolved.data.resolveSecrets.data.values.map((v: { value: string }) => v.value)).toEqual(
    refs.map((_, i) => `value-${i}`),
  );
  const verified = await t.gql(VERIFY, { org: tenant.organizationId }, tenant.session);
  expect(verified.data.verifyAuditChain.data).toMatchObject({ ok: true, firstBadPosition: null });
}

describe("re-wrap jobs across processes", () => {
  it("a job whose runner was SIGKILLed half-way is finished by another process once its lease lapses", async () => {
    const target = await rotate();
    const runner = startChild("start", 80);
    await partway(target, runner);
    runner.child.kill("SIGKILL");
    expect(await runner.exited).toBe("SIGKILL");
    expect(runner.output()).toContain('"started"');
    expect(runner.output()).not.toContain('"finished"');

    // Half-way: the job still says RUNNING (nobody was left to say otherwise), and its
    // progress counts exactly the rows that moved.
    const moved = await onVersion(target);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(SECRETS);
    const halfway = await jobRow();
    expect(halfway).toMatchObject({ status: "RUNNING", total: SECRETS, rewrapped: moved });
    expect(await onVersion(target - 1)).toBe(SECRETS - moved);

    // A worker process sweeps it up after the dead runner's lease lapses.
    const worker = startChild("sweep", 0);
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain(JSON.stringify({ swept: halfway.id }));
    await expectFinishedOnce(halfway.id, target);
  });

  it("a runner paused past its lease writes nothing when it wakes: the new holder's fence refuses it", async () => {
    const target = await rotate();
    const paused = startChild("start", 80);
    await partway(target, paused);
    paused.child.kill("SIGSTOP");
    try {
      const job = await jobRow();
      const worker = startChild("sweep", 0);
      expect(await worker.exited).toBe(0);
      expect(worker.output()).toContain(JSON.stringify({ swept: job.id }));
      const snapshot = await t.database.admin(
        `SELECT secret_id, version, ciphertext, key_version FROM secret_versions WHERE organization_id = $1 ORDER BY secret_id, version`,
        [organizationId],
      );
      const jobBefore = await t.database.admin(`SELECT * FROM rewrap_jobs WHERE id = $1`, [job.id]);

      // Woken, the old runner finds its lease gone at its next write, and stops.
      paused.child.kill("SIGCONT");
      expect(await paused.exited, paused.output()).toBe(0);
      expect(paused.output()).toContain(JSON.stringify({ lost: job.id }));
      expect(paused.output()).not.toContain('"finished"');
      expect(
        await t.database.admin(
          `SELECT secret_id, version, ciphertext, key_version FROM secret_versions WHERE organization_id = $1 ORDER BY secret_id, version`,
          [organizationId],
        ),
      ).toEqual(snapshot);
      expect(await t.database.admin(`SELECT * FROM rewrap_jobs WHERE id = $1`, [job.id])).toEqual(
        jobBefore,
      );
      await expectFinishedOnce(job.id, target);
    } finally {
      paused.child.kill("SIGKILL");
    }
  });

  it("two starts at once share one job, run by one of them", async () => {
    const target = await rotate();
    // Both processes booted, then released together: the starts really overlap.
    const [a, b] = [startChild("start", 20, true), startChild("start", 20, true)];
    await waitFor("both runners ready", async () =>
      [a, b].every((c) => c.output().includes('{"ready":true}')) ? true : undefined,
    );
    a.go();
    b.go();
    const exits = await waitFor("both runners exiting", async () => {
      const codes = [a.child.exitCode, b.child.exitCode];
      return codes.every((c) => c !== null) ? codes : undefined;
    });
    expect(exits).toEqual([0, 0]);
    const ids = [a.output(), b.output()].map(
      (out) => /"started":"([^"]+)"/.exec(out)?.[1] ?? `none: ${out}`,
    );
    expect(ids[0]).toBe(ids[1]);
    await expectFinishedOnce(ids[0]!, target);
  });
});

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
