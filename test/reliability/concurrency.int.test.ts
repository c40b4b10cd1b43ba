import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localId } from "../../server/src/graphql/globalId.ts";
import { startOAuthServer } from "../testkit/oauthServer.ts";
import { RESOLVE } from "../testkit/resolveOps.ts";
import { asInput, type Values } from "../testkit/secretOps.ts";
import { startTestApp, type Auth, type GqlResult, type TestApp } from "../testkit/testApp.ts";
import { interceptTransit } from "../testkit/interceptTransit.ts";

/**
 * Many callers at once, through the real GraphQL API: no lost update, no unexpected error
 * (every answer is a success or a typed error from the field's documented union), and
 * every organization's hash chain still verifies. `t.close()` then replays the whole log
 * and compares the projections with what these races left behind.
 */

type Tenant = Awaited<ReturnType<TestApp["createTenant"]>>;
type Outcome = { typename: string; data: any; code?: string; message?: string };

/** Random delay (ms, at most) before each transit decrypt / rewrap, while a test wants a slow engine. */
let transitLatencyMs = 0;
/** While set, decrypt calls wait for it: a request held between reading a ciphertext and decrypting it. */
let decryptGate: Promise<void> | null = null;
let decryptsWaiting = 0;

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({
    // Few kept versions, so pruning races with the writers; small re-wrap batches, so a
    // re-wrap takes many steps for resolutions to fall between.
    tuning: { keepVersions: 3, rewrapBatchSize: 4 },
    rateLimits: { signInsPerMinute: 1000, resolutionsPerMinute: 100_000 },
    // The real embedded transit engine, optionally as slow as a remote Vault.
    transit: (local) =>
      interceptTransit(local, async (method) => {
        if ((method === "decrypt" || method === "rewrap") && transitLatencyMs > 0)
          await sleep(Math.random() * transitLatencyMs);
        if (method === "decrypt" && decryptGate) {
          decryptsWaiting++;
          await decryptGate;
          decryptsWaiting--;
        }
      }),
  });
});
afterAll(() => t.close());

const ERROR_FIELDS = `__typename ... on Error { message code }`;

/**
 * Calls a mutation and returns its typed answer. A GraphQL error (a masked, unexpected
 * failure: what a user sees as a 500) fails the test.
 */
async function mutate(
  field: string,
  query: string,
  variables: Record<string, unknown>,
  auth: Auth,
): Promise<Outcome> {
  const result = await t.gql(query, variables, auth);
  if (result.status !== 200 || result.errors) {
    // The server's last error lines say what the masked error was.
    const serverErrors = t.logs.filter((line) => line.includes('"level":50')).slice(-3);
    expect.fail([`HTTP ${result.status}: ${result.raw}`, ...serverErrors].join("\n"));
  }
  const value = result.data[field];
  expect(value?.__typename, result.raw).toBeTypeOf("string");
  return {
    typename: value.__typename,
    data: value.data,
    ...(value.code ? { code: value.code, message: value.message } : {}),
  };
}

const succeeded = (o: Outcome) => o.typename.endsWith("Success");

const create = (auth: Auth, input: Record<string, unknown>) =>
  mutate(
    "createSecret",
    `mutation($i: CreateSecretInput!) { createSecret(input: $i) { ${ERROR_FIELDS} ... on MutationCreateSecretSuccess { data { secret { id name currentVersion } } } } }`,
    { i: input },
    auth,
  );
const rotate = (auth: Auth, id: string, values: Values) =>
  mutate(
    "rotateSecret",
    `mutation($i: RotateSecretInput!) { rotateSecret(input: $i) { ${ERROR_FIELDS} ... on MutationRotateSecretSuccess { data { secret { currentVersion } } } } }`,
    { i: { id, values: asInput(values) } },
    auth,
  );
const update = (auth: Auth, id: string, set: Values) =>
  mutate(
    "updateSecret",
    `mutation($i: UpdateSecretInput!) { updateSecret(input: $i) { ${ERROR_FIELDS} ... on MutationUpdateSecretSuccess { data { secret { currentVersion } } } } }`,
    { i: { id, set: asInput(set) } },
    auth,
  );
const resolve = (auth: Auth, refs: { name: string; key: string }[]) =>
  mutate("resolveSecrets", RESOLVE, { i: { refs, purpose: { runId: randomUUID() } } }, auth);

/** A secret created for a test, with its global and local ids. */
async function secretIn(tenant: Tenant, name: string, values: Values) {
  const created = await create(tenant.session, {
    workspaceId: tenant.workspaceId,
    name,
    values: asInput(values),
  });
  expect(created.typename, JSON.stringify(created)).toBe("MutationCreateSecretSuccess");
  const id: string = created.data.secret.id;
  return { id, stream: `secret-${localId(id, "Secret")}` };
}

/** A workspace token of the tenant that may resolve (and read metadata). */
const resolverToken = async (tenant: Tenant): Promise<Auth> => ({
  token: (
    await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
      "SECRETS_RESOLVE",
      "SECRETS_READ",
    ])
  ).token,
});

type AuditRow = { type: string; streamId: string; streamVersion: number; data: any };

/** The organization's audit log through the API, oldest first, every page. */
async function auditEvents(
  tenant: Tenant,
  filter: { types?: string[]; streamId?: string },
): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = {
      auditEvents: {
        edges: { node: AuditRow }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    };
    const result: GqlResult<Page> = await t.gql<Page>(
      `query($id: ID!, $f: AuditEventFilter, $after: String) { auditEvents(organizationId: $id, filter: $f, first: 150, after: $after) { edges { node { type streamId streamVersion data } } pageInfo { hasNextPage endCursor } } }`,
      { id: tenant.organizationId, f: filter, after },
      tenant.session,
    );
    expect(result.errors, result.raw).toBeUndefined();
    const page = result.data.auditEvents;
    rows.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return rows;
    after = page.pageInfo.endCursor;
  }
}

/** `verifyAuditChain` through the API must answer ok for the tenant's organization. */
async function expectChainVerifies(tenant: Tenant) {
  const result = await t.gql(
    `query($id: ID!) { verifyAuditChain(organizationId: $id) { __typename ... on QueryVerifyAuditChainSuccess { data { ok eventCount firstBadPosition reason } } } }`,
    { id: tenant.organizationId },
    tenant.session,
  );
  expect(result.errors, result.raw).toBeUndefined();
  expect(result.data.verifyAuditChain.data, result.raw).toMatchObject({
    ok: true,
    firstBadPosition: null,
  });
  return result.data.verifyAuditChain.data.eventCount as number;
}

const TRANSIT_STATUS = `query($id: ID!) { organization(id: $id) { transitKey { latestVersion minDecryptionVersion ciphertextsByVersion { keyVersion count } latestRewrapJob { status total rewrapped lastError } } } }`;
const transitStatus = async (tenant: Tenant) =>
  (await t.gql(TRANSIT_STATUS, { id: tenant.organizationId }, tenant.session)).data.organization
    .transitKey;

/** Starts `rewrapSecrets` through the API and waits until its job is no longer running. */
async function rewrapToCompletion(tenant: Tenant) {
  const started = await mutate(
    "rewrapSecrets",
    `mutation($id: ID!) { rewrapSecrets(organizationId: $id) { ${ERROR_FIELDS} ... on MutationRewrapSecretsSuccess { data { status total } } } }`,
    { id: tenant.organizationId },
    tenant.session,
  );
  expect(started.typename, JSON.stringify(started)).toBe("MutationRewrapSecretsSuccess");
  for (const deadline = Date.now() + 15_000; ; await sleep(20)) {
    const job = (await transitStatus(tenant)).latestRewrapJob;
    if (job.status !== "RUNNING") return { started, job };
    expect(Date.now()).toBeLessThan(deadline);
  }
}

/** Resolved values by key of one secret, from a successful resolution. */
function valuesOf(outcome: Outcome, name: string): { values: Values; versions: Set<number> } {
  const values: Values = {};
  const versions = new Set<number>();
  for (const v of outcome.data.values as { ref: string; value: string; version: number }[]) {
    const [refName, key] = v.ref.split(".");
    if (refName !== name) continue;
    values[key!] = v.value;
    versions.add(v.version);
  }
  return { values, versions };
}

describe("writers racing on one secret", () => {
  let tenant: Tenant;
  let token: Auth;
  beforeAll(async () => {
    tenant = await t.createTenant();
    token = await resolverToken(tenant);
  });

  it("16 concurrent merge-updates: each succeeds or conflicts, versions are dense, no key a success wrote is lost", async () => {
    const secret = await secretIn(tenant, "merged", { BASE: "base-0" });
    const sets = Array.from({ length: 16 }, (_, i) => ({
      [`U${i}`]: `update-${i}`,
      LAST: `last-update-${i}`,
    }));
    const outcomes = await Promise.all(sets.map((set) => update(tenant.session, secret.id, set)));
    for (const o of outcomes)
      expect(["MutationUpdateSecretSuccess", "ConflictError"]).toContain(o.typename);
    const wins = sets.filter((_, i) => succeeded(outcomes[i]!));
    expect(wins.length).toBeGreaterThan(0);

    const history = await auditEvents(tenant, { streamId: secret.stream });
    const versions = history.filter((e) => e.type === "SecretUpdated");
    expect(versions.map((e) => e.data.version)).toEqual(
      Array.from({ length: wins.length }, (_, i) => i + 2),
    );
    // Each successful update is exactly one version; a refused one is none.
    const writers = versions.map((e) =>
      (e.data.setKeys as string[]).find((k) => k.startsWith("U")),
    );
    expect(new Set(writers).size).toBe(wins.length);
    expect([...writers].sort()).toEqual(wins.map((set) => Object.keys(set)[0]).sort());
    // And each success answers with the version it wrote, not a later writer's.
    for (const [i, outcome] of outcomes.entries()) {
      if (!succeeded(outcome)) continue;
      const written = versions.find((e) => (e.data.setKeys as string[]).includes(`U${i}`))!;
      expect(outcome.data.secret.currentVersion).toBe(written.data.version);
    }

    // Merge semantics, in commit order: every key any success wrote is still there.
    const expected: Values = { BASE: "base-0" };
    for (const w of writers) Object.assign(expected, sets[Number(w!.slice(1))]);
    const resolved = await resolve(
      token,
      Object.keys(expected).map((key) => ({ name: "merged", key })),
    );
    expect(resolved.typename).toBe("MutationResolveSecretsSuccess");
    const { values, versions: resolvedVersions } = valuesOf(resolved, "merged");
    expect(values).toEqual(expected);
    expect([...resolvedVersions]).toEqual([wins.length + 1]);
    await expectChainVerifies(tenant);
  });

  it("rotations and merge-updates at once: dense versions, and the current value is what the last version wrote", async () => {
    const secret = await secretIn(tenant, "contended", { BASE: "base-0" });
    type Call = { kind: "rotate" | "update"; tag: string; values: Values };
    const calls: Call[] = Array.from({ length: 18 }, (_, i) =>
      i % 3 === 0
        ? {
            kind: "rotate",
            tag: `R${i}`,
            values: { [`R${i}`]: `rotated-${i}`, LAST: `last-rotation-${i}` },
          }
        : {
            kind: "update",
            tag: `U${i}`,
            values: { [`U${i}`]: `updated-${i}`, LAST: `last-update-${i}` },
          },
    );
    const outcomes = await Promise.all(
      calls.map((c) =>
        c.kind === "rotate"
          ? rotate(tenant.session, secret.id, c.values)
          : update(tenant.session, secret.id, c.values),
      ),
    );
    calls.forEach((c, i) =>
      expect([
        c.kind === "rotate" ? "MutationRotateSecretSuccess" : "MutationUpdateSecretSuccess",
        "ConflictError",
      ]).toContain(outcomes[i]!.typename),
    );
    const wins = calls.filter((_, i) => succeeded(outcomes[i]!));

    // The stream says which call made which version; replaying it with rotate = replace
    // and update = merge gives the value every reader must now see.
    const history = (await auditEvents(tenant, { streamId: secret.stream })).filter(
      (e) => e.type === "SecretRotated" || e.type === "SecretUpdated",
    );
    expect(history.map((e) => e.data.version)).toEqual(
      Array.from({ length: wins.length }, (_, i) => i + 2),
    );
    let expected: Values = { BASE: "base-0" };
    const seen = new Set<string>();
    for (const event of history) {
      const call = calls.find(
        (c) =>
          (event.data.keyNames as string[]).includes(c.tag) &&
          !seen.has(c.tag) &&
          (c.kind === "rotate") === (event.type === "SecretRotated"),
      );
      expect(call, JSON.stringify(event.data)).toBeDefined();
      seen.add(call!.tag);
      expected = call!.kind === "rotate" ? { ...call!.values } : { ...expected, ...call!.values };
      expect(event.data.keyNames).toEqual(Object.keys(expected).sort());
    }
    expect([...seen].sort()).toEqual(wins.map((c) => c.tag).sort());

    const resolved = await resolve(
      token,
      Object.keys(expected).map((key) => ({ name: "contended", key })),
    );
    expect(resolved.typename).toBe("MutationResolveSecretsSuccess");
    expect(valuesOf(resolved, "contended").values).toEqual(expected);
    await expectChainVerifies(tenant);
  });

  it("15 concurrent creates of one name: one succeeds, the others are told it exists", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        create(tenant.session, {
          workspaceId: tenant.workspaceId,
          name: "only-once",
          values: asInput({ K: `attempt-${i}` }),
        }),
      ),
    );
    expect(outcomes.filter(succeeded)).toHaveLength(1);
    const refused = outcomes.filter((o) => !succeeded(o));
    expect(refused).toHaveLength(14);
    for (const o of refused)
      expect(o).toMatchObject({
        typename: "ConflictError",
        code: "CONFLICT",
        message: 'A workspace secret named "only-once" already exists in the "default" environment',
      });
    const created = (await auditEvents(tenant, { types: ["SecretCreated"] })).filter(
      (e) => e.data.name === "only-once",
    );
    expect(created).toHaveLength(1);
    // The winner's value is the one stored.
    const winner = outcomes.findIndex(succeeded);
    const resolved = await resolve(token, [{ name: "only-once", key: "K" }]);
    expect(valuesOf(resolved, "only-once").values).toEqual({ K: `attempt-${winner}` });
    await expectChainVerifies(tenant);
  });
});

describe("readers during writes", () => {
  it("resolutions during a transit key rotation and re-wrap all answer the right values", async () => {
    const tenant = await t.createTenant();
    const token = await resolverToken(tenant);
    const count = 24;
    const expected = (i: number): Values => ({ A: `rewrap-${i}-a`, B: `rewrap-${i}-b` });
    for (let batch = 0; batch < count; batch += 12)
      await Promise.all(
        Array.from({ length: 12 }, (_, j) =>
          secretIn(tenant, `rw-${batch + j}`, expected(batch + j)),
        ),
      );

    transitLatencyMs = 15;
    let stop = false;
    let duringJob = 0;
    let jobRunning = false;
    const failures: unknown[] = [];
    const readers = Array.from({ length: 10 }, async () => {
      let after = 2; // a few more rounds once the job is done, on the raised minimum version
      let n = 0;
      while (!stop || after-- > 0) {
        const picks = Array.from({ length: 3 }, () => Math.floor(Math.random() * count));
        const outcome = await resolve(
          token,
          picks.flatMap((i) => [
            { name: `rw-${i}`, key: "A" },
            { name: `rw-${i}`, key: "B" },
          ]),
        );
        n++;
        if (jobRunning) duringJob++;
        if (!succeeded(outcome)) {
          failures.push(outcome);
          continue;
        }
        for (const i of picks) expect(valuesOf(outcome, `rw-${i}`).values).toEqual(expected(i));
      }
      return n;
    });
    try {
      await sleep(30);
      const rotated = await mutate(
        "rotateTransitKey",
        `mutation($id: ID!) { rotateTransitKey(organizationId: $id) { ${ERROR_FIELDS} ... on MutationRotateTransitKeySuccess { data { latestVersion } } } }`,
        { id: tenant.organizationId },
        tenant.session,
      );
      expect(rotated).toMatchObject({
        typename: "MutationRotateTransitKeySuccess",
        data: { latestVersion: 2 },
      });
      jobRunning = true;
      const { started } = await rewrapToCompletion(tenant);
      expect(started.data.total).toBe(count);
      jobRunning = false;
    } finally {
      stop = true;
      transitLatencyMs = 0;
    }
    const rounds = await Promise.all(readers);
    expect(failures).toEqual([]);
    expect(duringJob).toBeGreaterThan(5); // the readers really overlapped the re-wrap
    expect(await transitStatus(tenant)).toMatchObject({
      latestVersion: 2,
      minDecryptionVersion: 2,
      ciphertextsByVersion: [{ keyVersion: 2, count }],
      latestRewrapJob: { status: "COMPLETED", total: count, rewrapped: count, lastError: null },
    });
    const resolvedEvents = await auditEvents(tenant, { types: ["SecretsResolved"] });
    expect(resolvedEvents).toHaveLength(rounds.reduce((a, b) => a + b, 0));
    await expectChainVerifies(tenant);
  });

  it("reads that fetched a ciphertext before a re-wrap completed still decrypt after it", async () => {
    const tenant = await t.createTenant();
    const token = await resolverToken(tenant);
    const values = (i: number): Values => ({ K: `held-value-${i}` });
    const secrets = await Promise.all(
      Array.from({ length: 6 }, (_, i) => secretIn(tenant, `held-${i}`, values(i))),
    );
    const refs = secrets.map((_, i) => ({ name: `held-${i}`, key: "K" }));
    let release!: () => void;
    decryptGate = new Promise((r) => (release = r));
    let held: Promise<Outcome[]>;
    try {
      // Three resolutions and a merge-update read their ciphertexts (key version 1) and stop
      // just before decrypting...
      held = Promise.all([
        resolve(token, refs),
        resolve(token, refs),
        resolve(token, refs.slice(0, 2)),
        update(tenant.session, secrets[0]!.id, { EXTRA: "held-extra-value" }),
      ]);
      for (const deadline = Date.now() + 5_000; decryptsWaiting < 4; await sleep(5))
        expect(Date.now()).toBeLessThan(deadline);
      // ...while the key is rotated and everything re-wrapped, raising the minimum version.
      const rotated = await mutate(
        "rotateTransitKey",
        `mutation($id: ID!) { rotateTransitKey(organizationId: $id) { ${ERROR_FIELDS} } }`,
        { id: tenant.organizationId },
        tenant.session,
      );
      expect(rotated.typename).toBe("MutationRotateTransitKeySuccess");
      await rewrapToCompletion(tenant);
    } finally {
      decryptGate = null;
      release();
    }
    const [first, second, third, merged] = await held;
    for (const outcome of [first!, second!, third!]) {
      expect(outcome.typename, JSON.stringify(outcome)).toBe("MutationResolveSecretsSuccess");
      for (const v of outcome.data.values)
        expect(v.value).toBe(`held-value-${v.ref.split(".")[0].slice(5)}`);
    }
    expect(merged!.typename, JSON.stringify(merged)).toBe("MutationUpdateSecretSuccess");
    const after = await resolve(token, [...refs, { name: "held-0", key: "EXTRA" }]);
    expect(valuesOf(after, "held-0").values).toEqual({
      K: "held-value-0",
      EXTRA: "held-extra-value",
    });
    await expectChainVerifies(tenant);
  });

  it("resolutions during concurrent rotations see the old or the new value set, never a mix", async () => {
    const tenant = await t.createTenant();
    const token = await resolverToken(tenant);
    const generation = (g: number): Values => ({
      A: `gen-${g}-a`,
      B: `gen-${g}-b`,
      C: `gen-${g}-c`,
    });
    const secret = await secretIn(tenant, "rolling", generation(0));
    const refs = ["A", "B", "C"].map((key) => ({ name: "rolling", key }));
    const work: Promise<{ kind: "rotate" | "resolve"; outcome: Outcome }>[] = [];
    for (let i = 1; i <= 30; i++) {
      work.push(
        i % 2
          ? rotate(tenant.session, secret.id, { ...generation(i), [`G${i}`]: "marker" }).then(
              (outcome) => ({ kind: "rotate" as const, outcome }),
            )
          : resolve(token, refs).then((outcome) => ({ kind: "resolve" as const, outcome })),
      );
    }
    const results = await Promise.all(work);
    const genByVersion = new Map<number, string>([[1, "0"]]);
    for (const { kind, outcome } of results) {
      if (kind === "rotate") {
        expect(["MutationRotateSecretSuccess", "ConflictError"]).toContain(outcome.typename);
        continue;
      }
      expect(outcome.typename).toBe("MutationResolveSecretsSuccess");
      const { values, versions } = valuesOf(outcome, "rolling");
      expect(versions.size).toBe(1); // one version answers every key
      const g = /^gen-(\d+)-a$/.exec(values.A!)![1]!;
      expect(values).toEqual(generation(Number(g)));
      const version = [...versions][0]!;
      expect(genByVersion.get(version) ?? g).toBe(g); // and it is always the same version's values
      genByVersion.set(version, g);
    }
    // After the dust settles, a reader gets exactly what the last version wrote.
    const last = (
      await auditEvents(tenant, { streamId: secret.stream, types: ["SecretRotated"] })
    ).at(-1)!;
    const g = Number((last.data.keyNames as string[]).find((k) => k.startsWith("G"))!.slice(1));
    const final = await resolve(token, refs);
    expect(valuesOf(final, "rolling")).toEqual({
      values: generation(g),
      versions: new Set([last.data.version]),
    });
    await expectChainVerifies(tenant);
  });
});

describe("mixed commands across two organizations", () => {
  it("events interleave, yet each chain verifies and every resolution has its usage event", async () => {
    const tenants = [await t.createTenant(), await t.createTenant()];
    const setups = await Promise.all(
      tenants.map(async (tenant) => ({
        tenant,
        token: await resolverToken(tenant),
        shared: await secretIn(tenant, "shared", { K: "shared-0" }),
      })),
    );

    type Tagged = { org: number; what: string; outcome: Outcome };
    const jobs: (() => Promise<Tagged>)[] = [];
    for (const [org, { tenant, token, shared }] of setups.entries()) {
      const tag = (what: string) => (outcome: Outcome) => ({ org, what, outcome });
      for (let i = 0; i < 4; i++)
        jobs.push(() =>
          mutate(
            "declareEnvironment",
            `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { ${ERROR_FIELDS} ... on MutationDeclareEnvironmentSuccess { data { name } } } }`,
            { i: { workspaceId: tenant.workspaceId, name: i < 2 ? "same-env" : `env-${i}` } },
            tenant.session,
          ).then(tag(i < 2 ? "declareSame" : "declare")),
        );
      for (let i = 0; i < 4; i++)
        jobs.push(() =>
          mutate(
            "inviteOrganizationMember",
            `mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { ${ERROR_FIELDS} ... on MutationInviteOrganizationMemberSuccess { data { invitation { role } } } } }`,
            {
              i: {
                organizationId: tenant.organizationId,
                email: `member-${org}-${i}-${randomUUID().slice(0, 6)}@example.test`,
                role: "MEMBER",
              },
            },
            tenant.session,
          ).then(tag("member")),
        );
      for (let i = 0; i < 6; i++)
        jobs.push(() =>
          create(tenant.session, {
            workspaceId: tenant.workspaceId,
            name: `mixed-${i}`,
            values: asInput({ K: `mixed-${org}-${i}` }),
          }).then(tag("create")),
        );
      for (let i = 0; i < 6; i++)
        jobs.push(() =>
          rotate(tenant.session, shared.id, { K: `shared-${org}-${i + 1}` }).then(tag("rotate")),
        );
      for (let i = 0; i < 12; i++)
        jobs.push(() => resolve(token, [{ name: "shared", key: "K" }]).then(tag("resolve")));
      for (let i = 0; i < 3; i++)
        jobs.push(() =>
          resolve(token, [{ name: "nowhere", key: "K" }]).then(tag("resolveMissing")),
        );
    }
    const typesBefore = await Promise.all(
      setups.map(async ({ tenant }) => (await auditEvents(tenant, {})).map((e) => e.type)),
    );
    // Interleave the two organizations' calls in a random order, all at once.
    const shuffled = jobs.map((job) => ({ job, key: Math.random() })).sort((a, b) => a.key - b.key);
    const results = await Promise.all(shuffled.map(({ job }) => job()));

    for (const [org, { tenant }] of setups.entries()) {
      const mine = (what: string) =>
        results.filter((r) => r.org === org && r.what === what).map((r) => r.outcome);
      expect(mine("declare").every(succeeded)).toBe(true);
      expect(mine("declareSame").filter(succeeded)).toHaveLength(1);
      expect(mine("declareSame").filter((o) => !succeeded(o))).toMatchObject([
        { typename: "ConflictError" },
      ]);
      expect(mine("member").every(succeeded)).toBe(true);
      expect(mine("create").every(succeeded)).toBe(true);
      for (const o of mine("rotate"))
        expect(["MutationRotateSecretSuccess", "ConflictError"]).toContain(o.typename);
      for (const o of mine("resolve")) {
        expect(o.typename).toBe("MutationResolveSecretsSuccess");
        // Only this organization's values, never the other's.
        expect(valuesOf(o, "shared").values.K).toMatch(new RegExp(`^shared-(0|${org}-\\d)$`));
      }
      for (const o of mine("resolveMissing"))
        expect(o).toMatchObject({ typename: "CredentialNotFoundError" });

      const usage = await auditEvents(tenant, {
        types: ["SecretsResolved", "SecretsResolutionFailed"],
      });
      expect(usage.filter((e) => e.type === "SecretsResolved")).toHaveLength(
        mine("resolve").length,
      );
      expect(usage.filter((e) => e.type === "SecretsResolutionFailed")).toHaveLength(
        mine("resolveMissing").length,
      );
      const types = (await auditEvents(tenant, {})).map((e) => e.type);
      const added = (type: string) =>
        types.filter((x) => x === type).length - typesBefore[org]!.filter((x) => x === type).length;
      expect(added("EnvironmentDeclared")).toBe(3);
      expect(added("InvitationIssued")).toBe(4);
      expect(added("SecretCreated")).toBe(6);
      expect(added("SecretRotated")).toBe(mine("rotate").filter(succeeded).length);
      expect(await expectChainVerifies(tenant)).toBe(types.length);
    }
  });
});

describe("OAuth tokens refreshed at once", () => {
  it("more connections expiring together than the pool has connections: every resolution gets its token", async () => {
    // Each refresh holds its connection's row lock in a transaction while it asks the
    // transit engine for the client secret and the new tokens; the embedded keyring reads
    // through the same pool. Five refreshes at once on a pool of four must not starve it.
    const idp = await startOAuthServer({ accessTokenTtlSeconds: 60 });
    try {
      const tenant = await t.createTenant();
      const ERR = `__typename ... on Error { message }`;
      const provider = await t.ok<{ providerId: string }>(
        "createCustomOAuthProvider",
        `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { ${ERR} ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } } } }`,
        {
          i: {
            workspaceId: tenant.workspaceId,
            name: "Busy API",
            tokenEndpoint: idp.tokenEndpoint,
            grantTypes: ["client_credentials"],
            clientId: idp.client.clientId,
            clientSecret: idp.client.clientSecret,
          },
        },
        tenant.session,
      );
      const environments = ["e1", "e2", "e3", "e4", "e5"];
      let expression = "";
      for (const environment of environments) {
        await t.ok(
          "declareEnvironment",
          `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { ${ERR} ... on MutationDeclareEnvironmentSuccess { data { name } } } }`,
          { i: { workspaceId: tenant.workspaceId, name: environment } },
          tenant.session,
        );
        ({ expression } = await t.ok<{ expression: string }>(
          "connectOAuthClientCredentials",
          `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { ${ERR} ... on MutationConnectOAuthClientCredentialsSuccess { data { expression } } } }`,
          {
            i: {
              workspaceId: tenant.workspaceId,
              providerId: provider.providerId,
              environment,
              scopes: ["read"],
            },
          },
          tenant.session,
        ));
      }
      const [, name, key] = /SECRETS\.([^.]+)\.(\w+)/.exec(expression)!;
      // Every connection's 60 s token is 50 s old: inside its refresh window.
      await t.database.admin(
        `UPDATE oauth_connections SET refreshed_at = now() - interval '50 seconds', expires_at = now() + interval '10 seconds' WHERE workspace_id = $1`,
        [localId(tenant.workspaceId, "Workspace")],
      );
      const token = await resolverToken(tenant);
      const outcomes = await Promise.all(
        environments.map((environment) =>
          mutate("resolveSecrets", RESOLVE, { i: { environment, refs: [{ name, key }] } }, token),
        ),
      );
      for (const outcome of outcomes)
        expect(outcome.typename, JSON.stringify(outcome)).toBe("MutationResolveSecretsSuccess");
      const [refreshed] = await t.database.admin<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE type = 'OAuthTokenRefreshed' AND organization_id = $1`,
        [localId(tenant.organizationId, "Organization")],
      );
      expect(refreshed!.n).toBe(environments.length);
      await expectChainVerifies(tenant);
    } finally {
      await idp.close();
    }
  });
});
