import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VaultTransit } from "../../server/src/transit/VaultTransit.ts";
import { APP_LOGIN } from "../testkit/globalSetup.ts";
import { RESOLVE } from "../testkit/resolveOps.ts";
import { asInput, SECRET_FIELDS } from "../testkit/secretOps.ts";
import { startTestApp, type Auth, type GqlResult, type TestApp } from "../testkit/testApp.ts";
import {
  permissionDenied,
  sealed,
  startVaultDouble,
  type DoubleReply,
  type VaultDouble,
} from "../testkit/vaultDouble.ts";
import { interceptTransit } from "../testkit/interceptTransit.ts";

/**
 * Fault injection through the real GraphQL API: when a dependency fails in the middle of a
 * request, the caller gets a typed error it can act on, nothing is half-written (no secret
 * or version row, no event, no usage row), and the same request succeeds once the
 * dependency is back.
 */

const decode = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;

const SECRET_RESULT = (success: string) =>
  `__typename ... on Error { message code } ... on ${success} { data { secret { ${SECRET_FIELDS} } } }`;
const CREATE = `mutation($i: CreateSecretInput!) { createSecret(input: $i) { ${SECRET_RESULT("MutationCreateSecretSuccess")} } }`;
const UPDATE = `mutation($i: UpdateSecretInput!) { updateSecret(input: $i) { ${SECRET_RESULT("MutationUpdateSecretSuccess")} } }`;
const ROTATE = `mutation($i: RotateSecretInput!) { rotateSecret(input: $i) { ${SECRET_RESULT("MutationRotateSecretSuccess")} } }`;
const ROTATE_KEY = `mutation($id: ID!) { rotateTransitKey(organizationId: $id) { __typename ... on Error { message code } ... on MutationRotateTransitKeySuccess { data { latestVersion } } } }`;
const REWRAP = `mutation($id: ID!) { rewrapSecrets(organizationId: $id) { __typename ... on Error { message code } ... on MutationRewrapSecretsSuccess { data { id status total rewrapped } } } }`;
const KEY_STATUS = `query($id: ID!) { organization(id: $id) { transitKey { latestVersion minDecryptionVersion ciphertextsByVersion { keyVersion count } latestRewrapJob { id status total rewrapped lastError } } } }`;
const VERIFY = `query($org: ID!) { verifyAuditChain(organizationId: $org) { __typename ... on QueryVerifyAuditChainSuccess { data { ok eventCount firstBadPosition reason } } } }`;

type Tenant = Awaited<ReturnType<TestApp["createTenant"]>>;

/**
 * Everything a request could have left behind in an organization: its events (count and
 * chain head), secrets, versions (ciphertexts included), usage rows and re-wrap jobs.
 */
async function footprint(t: TestApp, organizationGid: string) {
  const org = decode(organizationGid);
  const rows = async (sql: string) =>
    (await t.database.admin<{ row: unknown }>(sql, [org])).map((r) => r.row);
  return {
    events: await rows(
      `SELECT jsonb_build_object('position', position, 'type', type, 'hash', hash) AS row FROM events WHERE organization_id = $1 ORDER BY position`,
    ),
    secrets: await rows(
      `SELECT to_jsonb(s) AS row FROM secrets s WHERE organization_id = $1 ORDER BY id`,
    ),
    versions: await rows(
      `SELECT to_jsonb(v) AS row FROM secret_versions v WHERE organization_id = $1 ORDER BY secret_id, version`,
    ),
    usage: await rows(
      `SELECT to_jsonb(u) AS row FROM secret_usage u WHERE organization_id = $1 ORDER BY id`,
    ),
    jobs: await rows(
      `SELECT to_jsonb(j) AS row FROM rewrap_jobs j WHERE organization_id = $1 ORDER BY id`,
    ),
  };
}

/** A GraphQL answer a client can act on: HTTP 200, no stack, no internals, no masked error. */
function expectCleanAnswer(result: GqlResult) {
  expect(result.status).toBe(200);
  expect(result.raw).not.toMatch(/\bat .*\.ts:\d+|stack|INTERNAL_SERVER_ERROR|Unexpected error/i);
}

async function expectChainVerifies(t: TestApp, tenant: Tenant) {
  const verified = await t.gql(VERIFY, { org: tenant.organizationId }, tenant.session);
  expect(verified.data.verifyAuditChain.data).toMatchObject({ ok: true, firstBadPosition: null });
}

describe("the transit engine (Vault) failing", () => {
  const TIMEOUT_MS = 150;
  let double: VaultDouble;
  let vault: VaultTransit;
  let t: TestApp;
  let tenant: Tenant;
  let token: Auth;
  let secretId: string;

  beforeAll(async () => {
    double = await startVaultDouble();
    // Short timeouts and backoff keep a failing call under a second; the breaker stays
    // closed so every request reaches the double (its fail-fast is tested on its own).
    vault = new VaultTransit({
      address: double.url,
      auth: { kind: "token", token: "test-token" },
      timeoutMs: TIMEOUT_MS,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      breaker: { failureThreshold: 1_000, coolDownMs: 1_000 },
      keyExistenceTtlMs: 0,
    });
    t = await startTestApp({ transit: () => vault, tuning: { rewrapBatchSize: 2 } });
    tenant = await t.createTenant();
    token = {
      token: (
        await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
      ).token,
    };
    const created = await t.gql(
      CREATE,
      { i: { workspaceId: tenant.workspaceId, name: "db", values: asInput({ PASSWORD: "v1" }) } },
      tenant.session,
    );
    secretId = created.data.createSecret.data.secret.id;
  });
  afterAll(async () => {
    await vault?.stop();
    await double?.close();
    await t?.close();
  });

  const faults: { name: string; reply: DoubleReply; code: string; message: RegExp }[] = [
    {
      name: "503 sealed",
      reply: sealed,
      code: "TRANSIT_UNAVAILABLE",
      message: /Vault is unavailable for .*503.*sealed/,
    },
    {
      name: "403 permission denied",
      reply: permissionDenied,
      code: "TRANSIT_PERMISSION_DENIED",
      message: /Vault denied .*403.*permission denied/,
    },
    {
      name: "no answer within the timeout",
      reply: { delayMs: TIMEOUT_MS * 4 },
      code: "TRANSIT_UNAVAILABLE",
      message: new RegExp(`Vault did not answer .* within ${TIMEOUT_MS} ms`),
    },
  ];

  let counter = 0;
  /** An update or rotation: one more version, and its events. */
  const addsAVersion = (before: Footprint, after: Footprint) => {
    expect(after.versions).toHaveLength(before.versions.length + 1);
    expect(after.events.length).toBeGreaterThan(before.events.length);
  };
  const requests: {
    name: string;
    /** The request; its typed answer is in the field named `name`. */
    send: () => Promise<GqlResult>;
    /** What the successful request changes, checked after recovery. */
    changed: (before: Footprint, after: Footprint) => void;
  }[] = [
    {
      name: "createSecret",
      send: () =>
        t.gql(
          CREATE,
          {
            i: {
              workspaceId: tenant.workspaceId,
              name: `new-${(counter += 1)}`,
              values: asInput({ K: "created" }),
            },
          },
          tenant.session,
        ),
      changed: (before, after) => {
        expect(after.secrets).toHaveLength(before.secrets.length + 1);
        expect(after.versions).toHaveLength(before.versions.length + 1);
        expect(after.events).toHaveLength(before.events.length + 1);
      },
    },
    {
      name: "updateSecret",
      send: () =>
        t.gql(
          UPDATE,
          { i: { id: secretId, set: asInput({ USER: `u-${(counter += 1)}` }) } },
          tenant.session,
        ),
      changed: addsAVersion,
    },
    {
      name: "rotateSecret",
      send: () =>
        t.gql(
          ROTATE,
          { i: { id: secretId, values: asInput({ PASSWORD: `p-${(counter += 1)}` }) } },
          tenant.session,
        ),
      changed: addsAVersion,
    },
    {
      name: "resolveSecrets",
      send: () =>
        t.gql(
          RESOLVE,
          { i: { refs: [{ name: "db", key: "PASSWORD" }], purpose: { runId: "fault-run" } } },
          token,
        ),
      changed: (before, after) => {
        expect(after.usage).toHaveLength(before.usage.length + 1);
        expect(after.events).toHaveLength(before.events.length + 1);
      },
    },
    {
      name: "rotateTransitKey",
      send: () => t.gql(ROTATE_KEY, { id: tenant.organizationId }, tenant.session),
      changed: (before, after) => {
        expect(after.events).toHaveLength(before.events.length + 1);
      },
    },
    {
      name: "rewrapSecrets",
      send: () => t.gql(REWRAP, { id: tenant.organizationId }, tenant.session),
      changed: (before, after) => {
        expect(after.jobs).toHaveLength(before.jobs.length + 1);
      },
    },
  ];

  describe.each(faults)("$name", (fault) => {
    it.each(requests)(
      "$name answers a typed error, writes nothing, and succeeds once Vault is back",
      async (request) => {
        await settleRewrap();
        const before = await footprint(t, tenant.organizationId);
        double.always(fault.reply, /^transit\//);
        const failed = await request.send();
        double.heal();
        expectCleanAnswer(failed);
        expect(failed.errors).toBeUndefined();
        const answer = failed.data[request.name];
        expect(answer).toMatchObject({ __typename: "TransitError", code: fault.code });
        expect(answer.message).toMatch(fault.message);
        // Give a late answer the time to land (it must not write anything either).
        if ("delayMs" in fault.reply) await sleep(fault.reply.delayMs);
        await settleRewrap();
        const unchanged = await footprint(t, tenant.organizationId);
        expect(withoutFailedResolutions(unchanged)).toEqual(withoutFailedResolutions(before));
        if (request.name === "resolveSecrets") {
          // A failed resolution is audited (DESIGN §5), and nothing else is written.
          expect(unchanged.events).toHaveLength(before.events.length + 1);
          expect(unchanged.events.at(-1)).toMatchObject({ type: "SecretsResolutionFailed" });
          const [recorded] = await t.database.admin<{ data: unknown }>(
            `SELECT data FROM events WHERE organization_id = $1 ORDER BY position DESC LIMIT 1`,
            [decode(tenant.organizationId)],
          );
          expect(recorded!.data).toMatchObject({
            reason: "decryption_failed",
            missing: ["db.PASSWORD"],
            purpose: { runId: "fault-run" },
          });
        }

        const recovered = await request.send();
        expectCleanAnswer(recovered);
        expect(recovered.data[request.name].__typename).toMatch(/Success$/);
        await settleRewrap();
        request.changed(unchanged, await footprint(t, tenant.organizationId));
        await expectChainVerifies(t, tenant);
      },
    );
  });

  it("a re-wrap that Vault stops half-way fails visibly, keeps its progress, and resumes", async () => {
    await settleRewrap();
    const rotated = await t.gql(ROTATE_KEY, { id: tenant.organizationId }, tenant.session);
    const target = rotated.data.rotateTransitKey.data.latestVersion as number;
    const before = await footprint(t, tenant.organizationId);
    // The first batch of 2 goes through, then Vault seals.
    let calls = 0;
    double.always(() => (++calls > 1 ? sealed : undefined), /^transit\/rewrap\//);
    const started = await t.gql(REWRAP, { id: tenant.organizationId }, tenant.session);
    expectCleanAnswer(started);
    const job = started.data.rewrapSecrets.data;
    expect(job.status).toBe("RUNNING");
    const failed = await jobSettled();
    double.heal();
    expect(failed.latestRewrapJob).toMatchObject({ id: job.id, status: "FAILED", rewrapped: 2 });
    expect(failed.latestRewrapJob.lastError).toMatch(/Vault is unavailable for rewrap.*sealed/);
    expect(failed.minDecryptionVersion).toBeLessThan(target);
    const midway = await footprint(t, tenant.organizationId);
    // Only the started event; no completion recorded.
    expect(midway.events.slice(before.events.length).map((e: any) => e.type)).toEqual([
      "SecretsRewrapStarted",
    ]);
    // Every value still resolves meanwhile, old and new key versions alike.
    await expectAllResolve();

    const resumed = await t.gql(REWRAP, { id: tenant.organizationId }, tenant.session);
    expect(resumed.data.rewrapSecrets.data.id).toBe(job.id);
    const done = await jobSettled();
    expect(done).toMatchObject({
      latestVersion: target,
      minDecryptionVersion: target,
      latestRewrapJob: { id: job.id, status: "COMPLETED", lastError: null },
    });
    expect(done.latestRewrapJob.rewrapped).toBe(done.latestRewrapJob.total);
    expect(done.ciphertextsByVersion).toEqual([
      { keyVersion: target, count: midway.versions.filter((v: any) => v.ciphertext).length },
    ]);
    await expectAllResolve();
    await expectChainVerifies(t, tenant);
  });

  type Footprint = Awaited<ReturnType<typeof footprint>>;

  /** The footprint without the SecretsResolutionFailed events a failed resolution records. */
  function withoutFailedResolutions(f: Footprint): Footprint {
    return { ...f, events: f.events.filter((e: any) => e.type !== "SecretsResolutionFailed") };
  }

  async function keyStatus() {
    return (await t.gql(KEY_STATUS, { id: tenant.organizationId }, tenant.session)).data
      .organization.transitKey;
  }

  /** Waits until no re-wrap job is running, and answers the key's status. */
  async function jobSettled() {
    for (let i = 0; ; i++) {
      const status = await keyStatus();
      if (!["RUNNING", "FINALIZING"].includes(status.latestRewrapJob?.status)) return status;
      if (i > 200) throw new Error("the re-wrap job never finished");
      await sleep(25);
    }
  }

  const settleRewrap = jobSettled;

  async function expectAllResolve() {
    const resolved = await t.gql(
      RESOLVE,
      { i: { refs: [{ name: "db", key: "PASSWORD" }] } },
      token,
    );
    expect(resolved.data.resolveSecrets.__typename).toBe("MutationResolveSecretsSuccess");
  }
});

describe("the database connection lost in the middle of a command", () => {
  let t: TestApp;
  let tenant: Tenant;
  let token: Auth;
  let secretId: string;
  /** Called when a command asks the transit engine to encrypt (before its transaction). */
  let duringEncrypt: (() => Promise<void>) | null = null;

  beforeAll(async () => {
    t = await startTestApp({
      transit: (local) =>
        interceptTransit(local, async (method) => {
          if (method === "encrypt" && duringEncrypt) await duringEncrypt();
        }),
    });
    // A fault the database itself injects, exactly mid-transaction: when an event of the
    // armed type is appended (after the command wrote its projections), the backend that
    // appends it terminates itself, as when PostgreSQL restarts or a proxy drops the
    // connection. A sequence, not a table, counts the shots: nextval survives the rollback.
    await t.database.admin(`
      CREATE TABLE fault_armed (event_type text PRIMARY KEY);
      CREATE SEQUENCE fault_shots;
      CREATE FUNCTION fault_kill_backend() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM fault_armed WHERE event_type = NEW.type)
           AND nextval('fault_shots') = 1 THEN
          PERFORM pg_terminate_backend(pg_backend_pid());
          PERFORM pg_sleep(5);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fault_kill_backend BEFORE INSERT ON events
        FOR EACH ROW EXECUTE FUNCTION fault_kill_backend();`);
    tenant = await t.createTenant();
    token = {
      token: (
        await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
      ).token,
    };
    const created = await t.gql(
      CREATE,
      { i: { workspaceId: tenant.workspaceId, name: "db", values: asInput({ PASSWORD: "v1" }) } },
      tenant.session,
    );
    secretId = created.data.createSecret.data.secret.id;
  });
  afterAll(async () => {
    await t.database.admin(`DROP TRIGGER IF EXISTS fault_kill_backend ON events`);
    await t?.close();
  });

  /**
   * A command answers the documented DATABASE_UNAVAILABLE code with a message a person can
   * act on; a resolution, whose usage event could not be made durable, its typed
   * AuditUnavailableError (no values).
   */
  function expectTypedFailure(result: GqlResult, field: string) {
    if (field === "resolveSecrets") {
      expect(result.errors).toBeUndefined();
      expect(result.data.resolveSecrets).toMatchObject({
        __typename: "AuditUnavailableError",
        code: "AUDIT_UNAVAILABLE",
      });
      expect(result.raw).not.toContain('"value"');
      return;
    }
    expect(result.data?.[field] ?? null).toBeNull();
    expect(result.errors).toEqual([
      {
        message: expect.stringMatching(/database connection was lost.*try again/),
        extensions: { code: "DATABASE_UNAVAILABLE" },
        ...(result.errors?.[0] && "path" in result.errors[0] ? { path: [field] } : {}),
        ...(result.errors?.[0] && "locations" in result.errors[0]
          ? { locations: expect.any(Array) }
          : {}),
      },
    ]);
    expect(t.logs.join("")).not.toContain("unexpected error in a resolver");
  }

  /** The next append of an event of this type kills its connection (once). */
  async function armFault(eventType: string) {
    await t.database.admin(`TRUNCATE fault_armed`);
    await t.database.admin(`INSERT INTO fault_armed VALUES ($1)`, [eventType]);
    await t.database.admin(`ALTER SEQUENCE fault_shots RESTART`);
  }
  async function disarm() {
    await t.database.admin(`TRUNCATE fault_armed`);
  }

  const cases: {
    name: string;
    eventType: string;
    send: () => Promise<GqlResult>;
    field: string;
  }[] = [
    {
      name: "createSecret",
      eventType: "SecretCreated",
      field: "createSecret",
      send: () =>
        t.gql(
          CREATE,
          {
            i: {
              workspaceId: tenant.workspaceId,
              name: "created-despite-a-fault",
              values: asInput({ K: "v" }),
            },
          },
          tenant.session,
        ),
    },
    {
      name: "updateSecret",
      eventType: "SecretUpdated",
      field: "updateSecret",
      send: () =>
        t.gql(UPDATE, { i: { id: secretId, set: asInput({ USER: "admin" }) } }, tenant.session),
    },
    {
      name: "rotateSecret",
      eventType: "SecretRotated",
      field: "rotateSecret",
      send: () =>
        t.gql(ROTATE, { i: { id: secretId, values: asInput({ PASSWORD: "v2" }) } }, tenant.session),
    },
    {
      name: "resolveSecrets (its usage event)",
      eventType: "SecretsResolved",
      field: "resolveSecrets",
      send: () => t.gql(RESOLVE, { i: { refs: [{ name: "db", key: "PASSWORD" }] } }, token),
    },
  ];

  it.each(cases)(
    "$name: a typed error, nothing written, and the next request succeeds",
    async ({ eventType, send, field }) => {
      const before = await footprint(t, tenant.organizationId);
      await armFault(eventType);
      const failed = await send();
      await disarm();
      expect(await t.database.admin(`SELECT nextval('fault_shots') AS n`)).toEqual([{ n: "2" }]);
      expectCleanAnswer(failed);
      expectTypedFailure(failed, field);
      expect(await footprint(t, tenant.organizationId)).toEqual(before);

      const recovered = await send();
      expectCleanAnswer(recovered);
      expect(recovered.data[field].__typename).toMatch(/Success$/);
      await expectChainVerifies(t, tenant);
    },
  );

  it("rotateTransitKey: the audit append cut off; the engine's rotation stands, unrecorded until the retry", async () => {
    const before = await footprint(t, tenant.organizationId);
    const keyBefore = (await keyStatus()).latestVersion as number;
    await armFault("TransitKeyRotated");
    const failed = await t.gql(ROTATE_KEY, { id: tenant.organizationId }, tenant.session);
    await disarm();
    expectCleanAnswer(failed);
    expectTypedFailure(failed, "rotateTransitKey");
    expect(await footprint(t, tenant.organizationId)).toEqual(before);
    // The transit engine rotates outside the transaction (Vault's rotation never could be
    // inside one): that version exists without its event. Nothing depends on it: values
    // still decrypt, and the retry's event names the version it leaves the key at.
    expect((await keyStatus()).latestVersion).toBe(keyBefore + 1);
    expect((await resolve()).__typename).toBe("MutationResolveSecretsSuccess");

    const recovered = await t.gql(ROTATE_KEY, { id: tenant.organizationId }, tenant.session);
    expect(recovered.data.rotateTransitKey).toMatchObject({
      __typename: "MutationRotateTransitKeySuccess",
      data: { latestVersion: keyBefore + 2 },
    });
    const [event] = await t.database.admin<{ type: string; data: { latestVersion: number } }>(
      `SELECT type, data FROM events WHERE organization_id = $1 ORDER BY position DESC LIMIT 1`,
      [decode(tenant.organizationId)],
    );
    expect(event).toMatchObject({
      type: "TransitKeyRotated",
      data: { latestVersion: keyBefore + 2 },
    });
    await expectChainVerifies(t, tenant);
  });

  it("every app connection killed between requests: the pool reconnects, nothing is lost", async () => {
    const before = await footprint(t, tenant.organizationId);
    // Killed while the command waits for the transit engine, before its transaction.
    duringEncrypt = async () => {
      duringEncrypt = null;
      await terminateAppConnections();
    };
    const answer = await t.gql(
      UPDATE,
      { i: { id: secretId, set: asInput({ DURING_OUTAGE: "x" }) } },
      tenant.session,
    );
    expect(duringEncrypt).toBeNull(); // the fault did fire
    expectCleanAnswer(answer);
    expect(answer.data.updateSecret.__typename).toBe("MutationUpdateSecretSuccess");
    const after = await footprint(t, tenant.organizationId);
    expect(after.versions).toHaveLength(before.versions.length + 1);
    expect(after.events.length).toBeGreaterThan(before.events.length);

    // And once more with nothing in flight: every request after it is served.
    await terminateAppConnections();
    for (let i = 0; i < 6; i++) {
      const next = await t.gql(
        UPDATE,
        { i: { id: secretId, set: asInput({ AFTER_OUTAGE: `v${i}` }) } },
        tenant.session,
      );
      expect(next.data.updateSecret.__typename).toBe("MutationUpdateSecretSuccess");
    }
    expect((await resolve()).__typename).toBe("MutationResolveSecretsSuccess");
    await expectChainVerifies(t, tenant);
  });

  it("connections killed under requests in flight: each answers or says DATABASE_UNAVAILABLE", async () => {
    // Updates waiting inside PostgreSQL, in their transaction, on the organization's chain
    // lock held from outside.
    await killWhileWaiting(
      "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
      [`coffer-chain:${decode(tenant.organizationId)}`],
      "advisory",
      (i) =>
        t.gql(UPDATE, { i: { id: secretId, set: asInput({ RACE: `r${i}` }) } }, tenant.session),
    );
    // Reads waiting outside any transaction, on a table locked from outside.
    await killWhileWaiting(
      "LOCK TABLE secret_versions IN ACCESS EXCLUSIVE MODE",
      [],
      "relation",
      () => t.gql(KEY_STATUS, { id: tenant.organizationId }, tenant.session),
    );
    expect((await resolve()).__typename).toBe("MutationResolveSecretsSuccess");
    await expectChainVerifies(t, tenant);
  });

  /**
   * Holds `lock` from another connection, sends six requests, waits until some of them
   * wait inside PostgreSQL on it (`waitEvent`), kills the app's connections, lets go, and
   * expects every answer to succeed or say DATABASE_UNAVAILABLE, and every request that
   * was waiting to have lost its connection.
   */
  async function killWhileWaiting(
    lock: string,
    params: unknown[],
    waitEvent: string,
    request: (i: number) => Promise<GqlResult>,
  ) {
    const holder = new pg.Client({ connectionString: t.database.adminUrl });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(lock, params);
      const requests = Array.from({ length: 6 }, (_, i) => request(i));
      let waiting = 0;
      for (let i = 0; i < 500 && waiting === 0; i++) {
        await sleep(10);
        const [row] = await t.database.admin<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND usename = $1 AND wait_event = $2`,
          [APP_LOGIN.user, waitEvent],
        );
        waiting = row!.n;
      }
      expect(waiting, `requests waiting on ${waitEvent}`).toBeGreaterThan(0);
      await t.database.admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND usename = $1`,
        [APP_LOGIN.user],
      );
      await holder.query("COMMIT");
      const answers = await Promise.all(requests);
      for (const answer of answers) {
        expect(answer.raw).not.toMatch(/INTERNAL_SERVER_ERROR|Unexpected error/);
        for (const error of answer.errors ?? [])
          expect(error.extensions?.code, answer.raw).toBe("DATABASE_UNAVAILABLE");
      }
      expect(answers.filter((a) => a.errors).length).toBeGreaterThanOrEqual(waiting);
    } finally {
      await holder.end();
    }
  }

  /**
   * Terminates every connection of the app's pool and waits until PostgreSQL has closed
   * them, so that the pool has seen them die.
   */
  async function terminateAppConnections() {
    const killed = await t.database.admin(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND usename = $1`,
      [APP_LOGIN.user],
    );
    expect(killed.length).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) {
      const [row] = await t.database.admin<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND usename = $1`,
        [APP_LOGIN.user],
      );
      if (row!.n === 0) break;
      await sleep(10);
    }
    await sleep(20); // the sockets' end reaches the pool
  }

  async function keyStatus() {
    return (await t.gql(KEY_STATUS, { id: tenant.organizationId }, tenant.session)).data
      .organization.transitKey;
  }

  async function resolve() {
    return (await t.gql(RESOLVE, { i: { refs: [{ name: "db", key: "PASSWORD" }] } }, token)).data
      .resolveSecrets;
  }
});

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
