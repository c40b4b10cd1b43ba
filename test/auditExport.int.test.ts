import type { Actor } from "../server/src/authz/Actor.ts";
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportEventLines } from "../server/src/audit/exportEvents.ts";
import { serveAuditExport, type RequestContextSource } from "../server/src/audit/exportRoute.ts";
import { verifyExport } from "../server/src/audit/verifyExport.ts";
import type { Db } from "../server/src/db/database.ts";
import { canonicalJson } from "../server/src/canonicalJson.ts";
import { GENESIS_HASH } from "../server/src/eventstore/hashChain.ts";
import { localId } from "../server/src/graphql/globalId.ts";
import { createHttpServer } from "../server/src/http/httpServer.ts";
import { createLogger } from "../server/src/logger.ts";
import { asInput, secretOps, type Values } from "./testkit/secretOps.ts";
import { startTestApp, type Auth, type TestApp } from "./testkit/testApp.ts";

type Tenant = Awaited<ReturnType<TestApp["createTenant"]>>;
type Line = {
  position: string;
  type: string;
  data: Record<string, unknown>;
  occurredAt: string;
  prevHash: string;
  hash: string;
  organizationId: string;
};

const root = path.resolve(import.meta.dirname, "..");
const VERIFY_CHAIN = `query($org: ID!) { verifyAuditChain(organizationId: $org) { __typename ... on QueryVerifyAuditChainSuccess { data { ok eventCount headHash } } } }`;

/** Every value this file stores as a secret: no export may contain one. */
const stored = new Set<string>();
const remember = (values: Values) => {
  for (const value of Object.values(values)) stored.add(value);
  return asInput(values);
};

let t: TestApp;
let tenant: Tenant;
let other: Tenant;
let server: ReturnType<typeof createHttpServer>;
let base: string;
let tmp: string;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.createTenant();
  other = await t.createTenant();
  const ops = secretOps(t);
  for (const name of ["staging", "prod"]) {
    await t.ok(
      "declareEnvironment",
      `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
      { i: { workspaceId: tenant.workspaceId, name } },
      tenant.session,
    );
  }
  const github = await ops.create(tenant.session, {
    workspaceId: tenant.workspaceId,
    environment: "prod",
    name: "github-pat",
    values: remember({ TOKEN: `ghp_${randomUUID()}`, USER: `ci-bot-${randomUUID()}` }),
  });
  expect(github.__typename).toBe("MutationCreateSecretSuccess");
  const updated = await ops.update(tenant.session, {
    id: github.data.secret.id,
    set: remember({ TOKEN: `ghp_rotated_${randomUUID()}` }),
  });
  expect(updated.__typename).toBe("MutationUpdateSecretSuccess");
  const slack = await ops.create(tenant.session, {
    workspaceId: tenant.workspaceId,
    environment: "staging",
    name: "slack",
    values: remember({ WEBHOOK: `https://hooks.example.test/${randomUUID()}` }),
  });
  expect(slack.__typename).toBe("MutationCreateSecretSuccess");
  await ops.create(other.session, {
    workspaceId: other.workspaceId,
    name: "other-secret",
    values: remember({ KEY: `other-${randomUUID()}` }),
  });

  server = createHttpServer({ yoga: t.app.yoga, db: t.db, logger: createLogger("silent") });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tmp = mkdtempSync(path.join(os.tmpdir(), "coffer-audit-export-"));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  await t?.close();
});

function exportUrl(organizationId: string, since?: string): string {
  const query = new URLSearchParams({ organizationId, ...(since ? { since } : {}) });
  return `${base}/audit/export?${query}`;
}

function get(url: string, auth: Auth, init: RequestInit = {}) {
  const headers: Record<string, string> = { ...auth?.headers };
  if (auth?.cookie) headers.cookie = auth.cookie;
  if (auth?.token) headers.authorization = `Bearer ${auth.token}`;
  return fetch(url, { ...init, headers });
}

async function exportText(organizationId: string, auth: Auth, since?: string): Promise<string> {
  const response = await get(exportUrl(organizationId, since), auth);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`export failed: ${response.status} ${text}`);
  return text;
}

const linesOf = (text: string) => text.split("\n").filter((line) => line !== "");
const parse = (line: string) => JSON.parse(line) as Line;

/** Runs a CLI script the way `npm run` does (tsx), returning its exit code and output. */
function runScript(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(root, "scripts", script), ...args],
      { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("GET /audit/export", () => {
  it("streams the organization's whole chain as NDJSON that the verifier accepts", async () => {
    const response = await get(exportUrl(tenant.organizationId), tenant.session);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const text = await response.text();
    const lines = linesOf(text);
    expect(text).toBe(lines.map((line) => `${line}\n`).join(""));

    const result = verifyExport(text);
    expect(result).toEqual({
      ok: true,
      count: lines.length,
      anchor: GENESIS_HASH,
      headHash: parse(lines.at(-1)!).hash,
    });
    // Every event of the organization, and the same head as the server's own verification.
    const organizationId = localId(tenant.organizationId, "Organization");
    const [row] = await t.database.admin<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE organization_id = $1",
      [organizationId],
    );
    const n = row!.n;
    expect(lines).toHaveLength(n);
    const chain = await t.gql(VERIFY_CHAIN, { org: tenant.organizationId }, tenant.session);
    expect(chain.data.verifyAuditChain.data).toEqual({
      ok: true,
      eventCount: n,
      headHash: parse(lines.at(-1)!).hash,
    });

    const events = lines.map(parse);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        "OrganizationCreated",
        "EnvironmentDeclared",
        "SecretCreated",
        "SecretUpdated",
      ]),
    );
    expect(new Set(events.map((e) => e.organizationId))).toEqual(new Set([organizationId]));
    const positions = events.map((e) => BigInt(e.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));

    // The documented recipe for verifiers in any language: each line is canonical JSON, and
    // its hash is SHA-256 over the canonical JSON of the line without `hash`.
    for (const line of lines) {
      const { hash, ...hashed } = parse(line);
      expect(canonicalJson(JSON.parse(line))).toBe(line);
      expect(createHash("sha256").update(canonicalJson(hashed)).digest("hex")).toBe(hash);
    }
    for (const value of stored) expect(text).not.toContain(value);
  });

  it("names exactly the event whose line had one byte changed", async () => {
    const lines = linesOf(await exportText(tenant.organizationId, tenant.session));
    const index = lines.findIndex((line) => parse(line).data.name === "prod");
    expect(parse(lines[index]!).type).toBe("EnvironmentDeclared");
    const tampered = [...lines];
    tampered[index] = lines[index]!.replace('"name":"prod"', '"name":"prxd"');
    expect(tampered[index]).not.toBe(lines[index]);
    expect(verifyExport(tampered)).toMatchObject({
      ok: false,
      reason: "hash_mismatch",
      line: index + 1,
      position: parse(lines[index]!).position,
      count: index,
    });

    // Any event: one byte of its type changed, that event is named.
    for (const [i, line] of lines.entries()) {
      const flipped = [...lines];
      flipped[i] = line.replace(
        /"type":"(.)/,
        (_, c: string) => `"type":"${c === "X" ? "Y" : "X"}`,
      );
      const result = verifyExport(flipped);
      expect(result).toMatchObject({ ok: false, reason: "hash_mismatch", line: i + 1 });
      expect(result.ok === false && result.position).toBe(parse(line).position);
    }
  });

  it("reports a removed line as a broken link at the event after it", async () => {
    const lines = linesOf(await exportText(tenant.organizationId, tenant.session));
    const removed = 4;
    const without = lines.filter((_, i) => i !== removed);
    expect(verifyExport(without.join("\n"))).toMatchObject({
      ok: false,
      reason: "broken_link",
      line: removed + 1,
      position: parse(lines[removed + 1]!).position,
      count: removed,
    });
    // Without its first line the export no longer starts at the genesis hash.
    expect(verifyExport(lines.slice(1))).toMatchObject({
      ok: false,
      reason: "broken_link",
      line: 1,
      position: parse(lines[1]!).position,
    });
    // Lines that are not export records are named too.
    const truncated = [...lines];
    truncated[2] = lines[2]!.slice(0, 40);
    expect(verifyExport(truncated)).toMatchObject({ ok: false, reason: "unparseable", line: 3 });
    const extra = [...lines];
    extra[2] = JSON.stringify({ ...JSON.parse(lines[2]!), note: "added" });
    expect(verifyExport(extra)).toMatchObject({
      ok: false,
      reason: "unparseable",
      line: 3,
      position: parse(lines[2]!).position,
    });
  });

  it("exports since a position or a time, anchored at the event before", async () => {
    const lines = linesOf(await exportText(tenant.organizationId, tenant.session));
    const head = parse(lines.at(-1)!).hash;

    const after = parse(lines[2]!);
    const part = await exportText(tenant.organizationId, tenant.session, after.position);
    expect(linesOf(part)).toEqual(lines.slice(3));
    expect(verifyExport(part)).toMatchObject({ ok: false, reason: "broken_link", line: 1 });
    expect(verifyExport(part, { anchor: "first-line" })).toEqual({
      ok: true,
      count: lines.length - 3,
      anchor: after.hash,
      headHash: head,
    });
    expect(verifyExport(part, { anchor: { hash: after.hash } })).toMatchObject({ ok: true });
    expect(verifyExport(part, { anchor: { hash: parse(lines[1]!).hash } })).toMatchObject({
      ok: false,
      reason: "broken_link",
      line: 1,
    });

    // A time starts at the first event at or after it and runs contiguously to the head.
    const from = parse(lines[5]!).occurredAt;
    const first = lines.findIndex((line) => parse(line).occurredAt >= from);
    const sinceTime = await exportText(tenant.organizationId, tenant.session, from);
    expect(linesOf(sinceTime)).toEqual(lines.slice(first));
    expect(verifyExport(sinceTime, { anchor: "first-line" })).toMatchObject({ ok: true });

    expect(await exportText(tenant.organizationId, tenant.session, "2999-01-01")).toBe("");
    expect(
      await exportText(tenant.organizationId, tenant.session, parse(lines.at(-1)!).position),
    ).toBe("");
    for (const bad of ["yesterday", "2026-02-30", "2026-11-26T10:00:00", "-1"]) {
      const response = await get(exportUrl(tenant.organizationId, bad), tenant.session);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: "since must be a position or an ISO 8601 date or date-time with a zone",
      });
    }
  });

  it("answers another tenant's organization exactly like a missing one", async () => {
    const foreign = await get(exportUrl(other.organizationId), tenant.session);
    const missing = await get(
      exportUrl(encodeGlobalID("Organization", randomUUID())),
      tenant.session,
    );
    const malformed = await get(exportUrl("not-an-id"), tenant.session);
    const wrongType = await get(exportUrl(tenant.workspaceId), tenant.session);
    const bodies = [];
    for (const response of [foreign, missing, malformed, wrongType]) {
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/json");
      bodies.push(await response.text());
    }
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]!)).toEqual({ error: "Organization not found" });

    // Each tenant exports its own chain only.
    const theirs = linesOf(await exportText(other.organizationId, other.session)).map(parse);
    const otherId = localId(other.organizationId, "Organization");
    expect(theirs.every((e) => e.organizationId === otherId)).toBe(true);
    expect(verifyExport(theirs.map((e) => JSON.stringify(e)))).toMatchObject({ ok: true });
  });

  it("authenticates like /graphql and needs audit:read", async () => {
    const url = exportUrl(tenant.organizationId);
    const anonymous = await get(url, undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    expect((await get(url, { token: "coffer_not-a-token" })).status).toBe(401);
    // The session cookie counts only on same-origin requests, as for /graphql.
    const crossSite = await get(url, {
      ...tenant.session,
      headers: { origin: "https://evil.test" },
    });
    expect(crossSite.status).toBe(401);
    const sameOrigin = await get(url, { ...tenant.session, headers: { origin: base } });
    expect(sameOrigin.status).toBe(200);
    await sameOrigin.body?.cancel();

    const auditor = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "AUDIT_READ",
    ]);
    const reader = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "SECRETS_READ",
    ]);
    const viaToken = await exportText(tenant.organizationId, { token: auditor.token });
    expect(verifyExport(viaToken)).toMatchObject({ ok: true });
    expect(linesOf(viaToken).map((line) => parse(line).type)).toContain("ApiTokenIssued");
    expect(viaToken).not.toContain(auditor.token);

    const forbidden = await get(url, { token: reader.token });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({
      error: 'Exporting the audit log needs the "audit:read" permission',
    });
    // A member without an organization role may not export either.
    const member = await t.addMember(tenant, "MEMBER", "ADMIN");
    expect((await get(url, member.session)).status).toBe(403);
    // Another organization's token sees no organization here at all.
    const foreignAuditor = await t.issueToken(
      other.session,
      { organizationId: other.organizationId },
      ["AUDIT_READ"],
    );
    expect((await get(url, { token: foreignAuditor.token })).status).toBe(404);

    expect((await get(exportUrl(""), tenant.session)).status).toBe(400);
    const post = await get(url, tenant.session, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });
});

describe("exportEventLines", () => {
  it("pages through the log and stops at the head it started from", async () => {
    const organizationId = localId(tenant.organizationId, "Organization");
    const whole = linesOf(await exportText(tenant.organizationId, tenant.session));
    const paged: string[] = [];
    for await (const line of exportEventLines(t.db, organizationId, { pageSize: 2 })) {
      paged.push(line);
      // An event appended mid-export belongs to the next export, not to this one.
      if (paged.length === 1) {
        await t.ok(
          "declareEnvironment",
          `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename } }`,
          { i: { workspaceId: tenant.workspaceId, name: `late_${paged.length}` } },
          tenant.session,
        );
      }
    }
    expect(paged).toEqual(whole.map((line) => `${line}\n`));
    const since = parse(whole[1]!).position;
    const rest: string[] = [];
    for await (const line of exportEventLines(t.db, organizationId, {
      since: { afterPosition: BigInt(since) },
      pageSize: 3,
    })) {
      rest.push(line.trimEnd());
    }
    expect(rest.slice(0, whole.length - 2)).toEqual(whole.slice(2));
    expect(parse(rest.at(-1)!).data.name).toBe("late_1");
  });

  it("aborts the HTTP transfer when the database fails mid-stream, never ending it cleanly", async () => {
    const actor: Actor = {
      kind: "user",
      userId: tenant.owner.userId,
      sessionId: "test",
      mfa: false,
      ssoOrganizationId: null,
    };
    let reads = 0;
    const failing = new Proxy(t.db, {
      get(target, prop, receiver) {
        if (prop !== "$queryRaw") return Reflect.get(target, prop, receiver);
        // The bounds, then pages of two: the third page fails.
        return (...args: unknown[]) =>
          ++reads === 4
            ? Promise.reject(new Error("connection lost (test)"))
            : (target.$queryRaw as (...a: unknown[]) => unknown)(...args);
      },
    }) as Db;
    const yoga = {
      getEnveloped: () => ({ contextFactory: async () => ({ actor, db: failing }) }),
    } as unknown as RequestContextSource;
    const logs: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void logs.push(line) });
    const failingServer = http.createServer((req, res) => {
      void serveAuditExport(req, res, { yoga, logger, requestId: "abort-test", pageSize: 2 });
    });
    await new Promise<void>((resolve) => failingServer.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = failingServer.address() as AddressInfo;
      // Whether the status line went out before the failure or not, the client gets an
      // error, not a body that ends like a complete export.
      const body = fetch(
        `http://127.0.0.1:${port}/audit/export?organizationId=${encodeURIComponent(tenant.organizationId)}`,
      ).then((response) => response.text());
      await expect(body).rejects.toThrow();
      expect(reads).toBe(4);
      expect(logs.join("")).toContain("audit export aborted while streaming");
    } finally {
      failingServer.closeAllConnections();
      await new Promise((resolve) => failingServer.close(resolve));
    }
  });
});

describe("the audit CLIs", () => {
  it("npm run audit:verify exits 0 on an intact export and 1 naming the first bad line", async () => {
    const text = await exportText(tenant.organizationId, tenant.session);
    const lines = linesOf(text);
    const good = path.join(tmp, "good.ndjson");
    writeFileSync(good, text);
    const ok = await runScript("audit-verify.ts", [good]);
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout).toBe(`verified ${lines.length} events, head ${parse(lines.at(-1)!).hash}\n`);

    const index = lines.findIndex((line) => parse(line).type === "SecretUpdated");
    const flipped = [...lines];
    flipped[index] = lines[index]!.replace('"type":"SecretUpdated"', '"type":"SecretUpdatee"');
    const bad = path.join(tmp, "bad.ndjson");
    writeFileSync(bad, flipped.map((line) => `${line}\n`).join(""));
    const failed = await runScript("audit-verify.ts", [bad]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toContain(
      `line ${index + 1} (position ${parse(lines[index]!).position}): hash_mismatch`,
    );

    const partial = path.join(tmp, "partial.ndjson");
    writeFileSync(partial, lines.slice(3).join("\n"));
    expect((await runScript("audit-verify.ts", [partial])).code).toBe(1);
    const anchored = await runScript("audit-verify.ts", [partial, "--partial"]);
    expect(anchored.code).toBe(0);
    expect(anchored.stdout).toContain(`anchored at ${parse(lines[2]!).hash}`);
    const chained = await runScript("audit-verify.ts", [
      partial,
      "--anchor",
      parse(lines[2]!).hash,
    ]);
    expect(chained.code).toBe(0);

    expect((await runScript("audit-verify.ts", [path.join(tmp, "absent.ndjson")])).code).toBe(2);
    expect((await runScript("audit-verify.ts", [])).code).toBe(2);
  });

  it("npm run audit:export writes the same export from the database", async () => {
    const organization = await t.db.organization.findUniqueOrThrow({
      where: { id: localId(tenant.organizationId, "Organization") },
    });
    const env = { DATABASE_URL: t.database.appUrl };
    const viaHttp = await exportText(tenant.organizationId, tenant.session);
    const lines = linesOf(viaHttp);
    const head = parse(lines.at(-1)!);

    const toStdout = await runScript("audit-export.ts", ["--org", organization.slug], env);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout).toBe(viaHttp);
    expect(toStdout.stderr).toContain(
      `exported ${lines.length} events of ${organization.slug} through position ${head.position}, head ${head.hash}`,
    );
    for (const value of stored) expect(toStdout.stdout).not.toContain(value);

    const out = path.join(tmp, "cli.ndjson");
    const since = parse(lines[2]!).position;
    const toFile = await runScript(
      "audit-export.ts",
      ["--org", organization.slug, "--since", since, "--out", out],
      env,
    );
    expect(toFile).toMatchObject({ code: 0, stdout: "" });
    expect(readFileSync(out, "utf8")).toBe(
      lines
        .slice(3)
        .map((line) => `${line}\n`)
        .join(""),
    );
    const verified = await runScript("audit-verify.ts", [out, "--anchor", parse(lines[2]!).hash]);
    expect(verified).toMatchObject({
      code: 0,
      stdout: `verified ${lines.length - 3} events, head ${head.hash}\n`,
    });

    const unknown = await runScript("audit-export.ts", ["--org", "no-such-org"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No organization has the slug "no-such-org"');
    expect((await runScript("audit-export.ts", [], env)).code).toBe(2);
    expect((await runScript("audit-export.ts", ["--org", "x", "--since", "soon"], env)).code).toBe(
      2,
    );
  });
});
