import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChain } from "../server/src/eventstore/verifyChain.ts";
import { createUsageLog } from "../server/src/resolution/usageLog.ts";
import { resolveOps } from "./testkit/resolveOps.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

// Group commit of usage events (resolution/usageLog.ts): concurrent resolutions of one
// organization share one chained append and one COMMIT, and each gets its values only
// after that COMMIT; a batch that fails fails every resolution in it, with no value.

let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
let token: string;
const decode = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;
const VALUE = "group-commit-value-7f3a9c";

beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.createTenant();
  token = (
    await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
  ).token;
  await secretOps(t).create(tenant.session, {
    workspaceId: tenant.workspaceId,
    name: "batched",
    values: asInput({ KEY: VALUE }),
  });
});
afterAll(() => t.close());

const resolve = (runId: string) =>
  resolveOps(t).resolve(
    { token },
    { arguments: { k: "${{ SECRETS.batched.KEY }}" }, purpose: { runId } },
  ) as Promise<{
    __typename: string;
    code?: string;
    data?: { arguments: { k: string }; usageEventPosition: string };
  }>;

describe("group commit of usage events", () => {
  it("appends concurrent resolutions of one organization in shared transactions, one event each, on one chain", async () => {
    const runs = Array.from({ length: 40 }, (_, i) => `gc-run-${i}`);
    const results = await Promise.all(runs.map(resolve));
    for (const result of results) {
      expect(result.__typename).toBe("MutationResolveSecretsSuccess");
      expect(result.data!.arguments.k).toBe(VALUE);
    }
    const rows = await t.database.admin(
      `SELECT position::text, xmin::text AS tx, data->'purpose'->>'runId' AS run FROM events
       WHERE type = 'SecretsResolved' AND data->'purpose'->>'runId' LIKE 'gc-run-%' ORDER BY position`,
    );
    // Exactly one event per resolution, at the position each was told.
    expect(rows.map((r) => r.run).sort()).toEqual([...runs].sort());
    expect(new Set(results.map((r) => r.data!.usageEventPosition))).toEqual(
      new Set(rows.map((r) => r.position)),
    );
    // Fewer transactions than resolutions: they were committed together.
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThan(runs.length);
    const usage = await t.database.admin(
      `SELECT count(*)::int AS n FROM secret_usage WHERE run_id LIKE 'gc-run-%'`,
    );
    expect(usage[0]!.n).toBe(runs.length);
    expect(await verifyChain(t.db, decode(tenant.organizationId))).toMatchObject({ ok: true });
  });

  /** A usage event as resolutionService records it, for the usage log called directly. */
  const failureRecord = (runId: string) => {
    const workspaceId = decode(tenant.workspaceId);
    return {
      organizationId: decode(tenant.organizationId),
      workspaceId,
      event: {
        type: "SecretsResolutionFailed" as const,
        data: {
          workspaceId,
          environment: "default",
          onBehalfOf: null,
          purpose: { workflowId: null, runId, actionRef: null },
          reason: "credential_not_found" as const,
          missing: ["nothing.HERE"],
        },
      },
      metadata: { actor: { kind: "system" as const, id: "test" } },
      now: new Date(),
    };
  };

  it("gives the events of one batch positions in the order they were queued", async () => {
    const log = createUsageLog({ db: t.db });
    const queued = Array.from({ length: 8 }, (_, i) => log.record(failureRecord(`order-${i}`)));
    const stored = await Promise.all(queued);
    const positions = stored.map((e) => e.position);
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    const tx = await t.database.admin(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM events WHERE data->'purpose'->>'runId' LIKE 'order-%'`,
    );
    expect(tx[0]!.n).toBe(1);
  });

  it("fails every resolution of a batch that cannot be written, and returns no value", async () => {
    // One poisoned event makes its whole batch's statement fail.
    await t.database.admin(`
      CREATE FUNCTION test_poison_usage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.data->'purpose'->>'runId' = 'poison' THEN RAISE EXCEPTION 'test: poisoned'; END IF; RETURN NEW; END; $$;
      CREATE TRIGGER test_poison_usage BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_poison_usage();`);
    try {
      const runs = ["poison", ...Array.from({ length: 15 }, (_, i) => `poison-batch-${i}`)];
      const before = await t.database.admin(
        `SELECT count(*)::int AS n FROM events WHERE data->'purpose'->>'runId' LIKE 'poison%'`,
      );
      const results = await Promise.all(runs.map(resolve));
      const failed = results.filter((r) => r.__typename === "AuditUnavailableError");
      // The poisoned resolution fails, and with it every one committed in its batch.
      expect(results[0]!.__typename).toBe("AuditUnavailableError");
      for (const r of failed) expect(JSON.stringify(r)).not.toContain(VALUE);
      const rows = await t.database.admin(
        `SELECT data->'purpose'->>'runId' AS run FROM events WHERE type = 'SecretsResolved' AND data->'purpose'->>'runId' LIKE 'poison%'`,
      );
      expect(before[0]!.n).toBe(0);
      // Every success has its event; no failure has one.
      const succeeded = runs.filter((_, i) => results[i]!.__typename !== "AuditUnavailableError");
      expect(rows.map((r) => r.run).sort()).toEqual(succeeded.sort());
      expect(failed.length + succeeded.length).toBe(runs.length);

      // Queued in one turn, they travel in one batch: the poisoned one fails them all.
      const log = createUsageLog({ db: t.db });
      const together = ["poison", "poison-mate-1", "poison-mate-2", "poison-mate-3"];
      const outcomes = await Promise.allSettled(
        together.map((run) => log.record(failureRecord(run))),
      );
      expect(outcomes.map((o) => o.status)).toEqual(together.map(() => "rejected"));
      const mates = await t.database.admin(
        `SELECT count(*)::int AS n FROM events WHERE data->'purpose'->>'runId' LIKE 'poison-mate-%'`,
      );
      expect(mates[0]!.n).toBe(0);
    } finally {
      await t.database.admin(
        `DROP TRIGGER test_poison_usage ON events; DROP FUNCTION test_poison_usage();`,
      );
    }
    expect((await resolve("after-poison")).__typename).toBe("MutationResolveSecretsSuccess");
  });
});
