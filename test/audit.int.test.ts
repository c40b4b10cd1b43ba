import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.createTenant();
  for (const name of ["staging", "customer_acme", "lab"]) {
    await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: tenant.workspaceId, name } },
      tenant.session,
    );
  }
});
// This file rewrites history behind the triggers on purpose, so a replay cannot match.
afterAll(() => t.close({ verifyProjections: false }));

const AUDIT = `query($org: ID!, $first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(organizationId: $org, first: $first, after: $after, filter: $filter) {
    edges { cursor node { position type streamId actorKind actorId requestId data hash prevHash } }
    pageInfo { hasNextPage endCursor }
  } }`;
const VERIFY = `query($org: ID!) { verifyAuditChain(organizationId: $org) { __typename ... on QueryVerifyAuditChainSuccess { data { ok eventCount firstBadPosition reason } } } }`;

describe("the audit log over GraphQL", () => {
  it("pages through an organization's events in order, with actor and request metadata", async () => {
    const first = await t.gql(
      AUDIT,
      { org: tenant.organizationId, first: 3 },
      { ...tenant.session, headers: { "x-request-id": "req-audit-1" } },
    );
    expect(first.data.auditEvents.edges.map((e: any) => e.node.type)).toEqual([
      "OrganizationCreated",
      "WorkspaceCreated",
      "EnvironmentDeclared",
    ]);
    expect(first.data.auditEvents.pageInfo.hasNextPage).toBe(true);
    const rest = await t.gql(
      AUDIT,
      { org: tenant.organizationId, first: 10, after: first.data.auditEvents.pageInfo.endCursor },
      tenant.session,
    );
    expect(rest.data.auditEvents.edges.map((e: any) => [e.node.type, e.node.data.name])).toEqual([
      ["EnvironmentDeclared", "staging"],
      ["EnvironmentDeclared", "customer_acme"],
      ["EnvironmentDeclared", "lab"],
    ]);
    const node = rest.data.auditEvents.edges[0].node;
    expect(node).toMatchObject({ actorKind: "user", actorId: tenant.owner.userId });
    expect(node.requestId).toEqual(expect.any(String));
    expect(rest.data.auditEvents.pageInfo.hasNextPage).toBe(false);
  });

  it("filters by type, actor, stream and time", async () => {
    const byType = await t.gql(
      AUDIT,
      { org: tenant.organizationId, filter: { types: ["WorkspaceCreated"] } },
      tenant.session,
    );
    expect(byType.data.auditEvents.edges).toHaveLength(1);
    const byActor = await t.gql(
      AUDIT,
      { org: tenant.organizationId, filter: { actorId: "nobody" } },
      tenant.session,
    );
    expect(byActor.data.auditEvents.edges).toHaveLength(0);
    const stream = byType.data.auditEvents.edges[0].node.streamId;
    const byStream = await t.gql(
      AUDIT,
      { org: tenant.organizationId, filter: { streamId: stream } },
      tenant.session,
    );
    expect(byStream.data.auditEvents.edges.map((e: any) => e.node.type)).toEqual([
      "WorkspaceCreated",
      "EnvironmentDeclared",
      "EnvironmentDeclared",
      "EnvironmentDeclared",
      "EnvironmentDeclared",
    ]);
    const future = await t.gql(
      AUDIT,
      {
        org: tenant.organizationId,
        filter: { since: new Date(Date.now() + 3_600_000).toISOString() },
      },
      tenant.session,
    );
    expect(future.data.auditEvents.edges).toHaveLength(0);
  });

  it("is readable with an audit:read token and not without", async () => {
    const auditor = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "AUDIT_READ",
    ]);
    const reader = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "SECRETS_READ",
    ]);
    expect(
      (await t.gql(AUDIT, { org: tenant.organizationId, first: 1 }, { token: auditor.token })).data
        .auditEvents.edges,
    ).toHaveLength(1);
    expect(
      (await t.gql(AUDIT, { org: tenant.organizationId, first: 1 }, { token: reader.token }))
        .errors?.[0]?.extensions?.code,
    ).toBe("FORBIDDEN");
  });
});

describe("verifyAuditChain", () => {
  it("reports a valid chain", async () => {
    const result = await t.gql(VERIFY, { org: tenant.organizationId }, tenant.session);
    expect(result.data.verifyAuditChain.data).toMatchObject({ ok: true, firstBadPosition: null });
    expect(result.data.verifyAuditChain.data.eventCount).toBeGreaterThanOrEqual(6);
  });

  it("names the position of a row altered behind the triggers' back", async () => {
    const victim = await t.createTenant();
    await t.gql(
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: victim.workspaceId, name: "prod" } },
      victim.session,
    );
    const events = (
      await t.gql(AUDIT, { org: victim.organizationId }, victim.session)
    ).data.auditEvents.edges.map((e: any) => e.node);
    const target = events.find((e: any) => e.data.name === "prod");
    // Only a superuser can do this: disable the triggers, rewrite history, re-enable them.
    await t.database.admin(`
      BEGIN;
      ALTER TABLE events DISABLE TRIGGER events_no_update_delete;
      UPDATE events SET data = jsonb_set(data, '{name}', '"production"') WHERE position = ${target.position};
      ALTER TABLE events ENABLE TRIGGER events_no_update_delete;
      COMMIT;`);
    const result = await t.gql(VERIFY, { org: victim.organizationId }, victim.session);
    expect(result.data.verifyAuditChain.data).toMatchObject({
      ok: false,
      firstBadPosition: target.position,
      reason: "hash_mismatch",
    });
    // Other organizations' chains are unaffected.
    expect(
      (await t.gql(VERIFY, { org: tenant.organizationId }, tenant.session)).data.verifyAuditChain
        .data.ok,
    ).toBe(true);
  });

  it("names the event after a deleted one as a broken link", async () => {
    const victim = await t.createTenant();
    const events = (
      await t.gql(AUDIT, { org: victim.organizationId }, victim.session)
    ).data.auditEvents.edges.map((e: any) => e.node);
    expect(events.length).toBeGreaterThanOrEqual(3);
    await t.database.admin(`
      BEGIN;
      ALTER TABLE events DISABLE TRIGGER events_no_update_delete;
      DELETE FROM events WHERE position = ${events[1].position};
      ALTER TABLE events ENABLE TRIGGER events_no_update_delete;
      COMMIT;`);
    const result = await t.gql(VERIFY, { org: victim.organizationId }, victim.session);
    expect(result.data.verifyAuditChain.data).toMatchObject({
      ok: false,
      firstBadPosition: events[2].position,
      reason: "broken_link",
    });
  });
});
