import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../../server/src/http/httpServer.ts";
import { createLogger } from "../../server/src/logger.ts";
import { resolveOps } from "../testkit/resolveOps.ts";
import { asInput, secretOps } from "../testkit/secretOps.ts";
import { startTestApp, type Auth, type TestApp } from "../testkit/testApp.ts";

/**
 * Hostile or malformed input gets a typed refusal a client can act on: a status in the 4xx
 * range (or 200 with a coded error, as GraphQL over HTTP prescribes for `application/json`),
 * an error code or typed error, no echo of what was sent, no internals. Nothing is written,
 * and the very next ordinary request works.
 */

let t: TestApp;
let tenant: Awaited<ReturnType<TestApp["createTenant"]>>;
let resolver: string;
let secrets: ReturnType<typeof secretOps>;
let resolution: ReturnType<typeof resolveOps>;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.createTenant();
  secrets = secretOps(t);
  resolution = resolveOps(t);
  resolver = (
    await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
      "SECRETS_RESOLVE",
      "SECRETS_READ",
    ])
  ).token;
  const seeded = await secrets.create(tenant.session, {
    workspaceId: tenant.workspaceId,
    name: "github-pat",
    values: asInput({ TOKEN: "seeded-token-value" }),
  });
  expect(seeded.__typename).toBe("MutationCreateSecretSuccess");
});
afterAll(() => t.close());

const INTERNALS =
  /\bat \S+:\d+|node_modules|\/work\/|stack|prisma|SyntaxError|TypeError|RangeError|Unexpected error/i;

/** Neither the offending values nor anything internal appears in a response or a log line. */
function expectNoEcho(raw: string, ...values: string[]) {
  for (const value of values) {
    expect(raw).not.toContain(value);
    for (const line of t.logs) expect(line).not.toContain(value);
  }
  expect(raw).not.toMatch(INTERNALS);
}

/** The next ordinary requests (a read and a resolution) succeed. */
async function expectServing() {
  const viewer = await t.gql(`{ viewer { kind } }`, {}, tenant.session);
  expect(viewer.status).toBe(200);
  expect(viewer.data.viewer.kind).toBe("USER");
  const resolved = await resolution.resolve(
    { token: resolver },
    { arguments: { token: "${{ SECRETS.github-pat.TOKEN }}" } },
  );
  expect(resolved.__typename).toBe("MutationResolveSecretsSuccess");
  expect(resolved.data.arguments).toEqual({ token: "seeded-token-value" });
}

async function eventHead(): Promise<string> {
  const [row] = await t.database.admin<{ p: string }>(
    `SELECT coalesce(max(position), 0)::text AS p FROM events`,
  );
  return row!.p;
}

async function secretNames(): Promise<string[]> {
  const rows = await t.database.admin<{ name: string }>(`SELECT name FROM secrets ORDER BY name`);
  return rows.map((r) => r.name);
}

/** Runs `attempt` and checks it appended no event and created no secret. */
async function expectNothingWritten(attempt: () => Promise<unknown>) {
  const [head, names] = [await eventHead(), await secretNames()];
  await attempt();
  expect(await eventHead()).toBe(head);
  expect(await secretNames()).toEqual(names);
}

type Raw = { status: number; raw: string; body: any };

/** A request through Yoga with a body and headers exactly as given. */
async function post(
  body: BodyInit,
  headers: Record<string, string> = { "content-type": "application/json" },
  auth: Auth = tenant.session,
): Promise<Raw> {
  const response = await t.app.yoga.fetch("http://coffer.test/graphql", {
    method: "POST",
    headers: {
      ...headers,
      ...(auth?.cookie ? { cookie: auth.cookie } : {}),
      ...(auth?.token ? { authorization: `Bearer ${auth.token}` } : {}),
    },
    body,
  });
  const raw = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not every refusal has a JSON body (415).
  }
  return { status: response.status, raw, body: parsed };
}

const STRICT = { "content-type": "application/json", accept: "application/graphql-response+json" };

describe("query abuse", () => {
  const deep = `{ viewer { organizations { workspaces { edges { node { organization { workspaces { edges { node { organization { workspaces { edges { node { id } } } } } } } } } } } } } }`;
  const costly = (first: string) =>
    `query${first === "$n" ? "($n: Int)" : ""} { viewer { organizations { workspaces(first: ${first}) { edges { node { members(first: ${first}) { edges { node { role } } } apiTokens(first: ${first}) { edges { node { id } } } } } } } } }`;

  it("refuses a depth bomb as a validation error (400 for graphql-response+json)", async () => {
    const result = await t.gql(deep, {}, tenant.session);
    expect(result.status).toBe(200);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/depth limit of 12/);
    expect(result.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expectNoEcho(result.raw);
    const strict = await post(JSON.stringify({ query: deep }), STRICT);
    expect(strict.status).toBe(400);
    expect(strict.body.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    await expectServing();
  });

  it("refuses an alias bomb", async () => {
    const aliases = Array.from({ length: 100 }, (_, i) => `a${i}: viewer { kind }`).join(" ");
    const result = await post(JSON.stringify({ query: `{ ${aliases} }` }), STRICT);
    expect(result.status).toBe(400);
    expect(result.body.errors[0].message).toMatch(/aliases limit of 15/i);
    expect(result.body.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(result.body.data ?? null).toBeNull();
    await expectServing();
  });

  it("refuses a cost bomb with literal page sizes", async () => {
    const result = await t.gql(costly("100"), {}, tenant.session);
    expect(result.errors?.[0]?.message).toMatch(/cost limit of 30000 exceeded/i);
    expect(result.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(result.data ?? null).toBeNull();
    await expectServing();
  });

  it("counts a page size passed as a variable (graphql-armor alone scored it as 1)", async () => {
    const refused = await t.gql(costly("$n"), { n: 100 }, tenant.session);
    expect(refused.errors?.[0]?.message).toMatch(/cost limit of 30000 exceeded/i);
    expect(refused.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(refused.data ?? null).toBeNull();
    const strict = await post(
      JSON.stringify({ query: costly("$n"), variables: { n: 100 } }),
      STRICT,
    );
    expect(strict.status).toBe(400);
    // A default that is not given counts too, and so does a null (a connection's default page).
    const withDefault = await t.gql(
      costly("$n").replace("$n: Int", "$n: Int = 500"),
      {},
      tenant.session,
    );
    expect(withDefault.errors?.[0]?.message).toMatch(/cost limit/i);
    const withNull = await t.gql(costly("$n"), { n: null }, tenant.session);
    expect(withNull.errors?.[0]?.message).toMatch(/cost limit/i);
    // The same query with small pages is within budget and runs.
    const small = await t.gql(costly("$n"), { n: 2 }, tenant.session);
    expect(small.errors).toBeUndefined();
    expect(small.data.viewer.organizations[0].workspaces.edges).toHaveLength(1);
    await expectServing();
  });

  it("counts the audit log's larger page (500) through a variable", async () => {
    // Each page costs (2 + 1.5 × (2 + 1.5 × (2 + 1.5 × 6))) × n: 2975 for 100, 14875 for
    // 500. One full page is a legitimate request; three at once are not.
    const page = (alias: string) =>
      `${alias}: auditEvents(organizationId: $org, first: $n) { edges { node { position streamId streamVersion type occurredAt actorKind } } }`;
    const query = `query($org: ID!, $n: Int) { ${page("a")} ${page("b")} ${page("c")} }`;
    const refused = await t.gql(query, { org: tenant.organizationId, n: 500 }, tenant.session);
    expect(refused.errors?.[0]?.message).toBe("Query cost limit of 30000 exceeded, found 44625.");
    const allowed = await t.gql(query, { org: tenant.organizationId, n: 100 }, tenant.session);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data.a.edges.length).toBeGreaterThan(0);
  });

  it("refuses a fragment spread explosion before executing it", async () => {
    // Each fragment spreads the previous one 30 times: 27 000 copies of `kind` if expanded.
    const fragments = Array.from(
      { length: 3 },
      (_, i) => `fragment F${i + 1} on Viewer { ${`...F${i} `.repeat(30)}}`,
    ).join(" ");
    const query = `query { viewer { ...F3 } } fragment F0 on Viewer { kind } ${fragments}`;
    const result = await t.gql(query, {}, tenant.session);
    expect(result.errors?.[0]?.message).toMatch(/cost limit/i);
    expect(result.data ?? null).toBeNull();
    await expectServing();
  });

  it("refuses fragment cycles and directive abuse", async () => {
    const cycle = await t.gql(
      `query { viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }`,
      {},
      tenant.session,
    );
    expect(cycle.errors?.[0]?.message).toMatch(/Cannot spread fragment "A" within itself/);
    expect(cycle.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const directives = await t.gql(
      `query { viewer { kind ${"@include(if: true) ".repeat(50)} } }`,
      {},
      tenant.session,
    );
    expect(directives.errors?.[0]?.message).toMatch(/Directives limit of 20/);
    expect(directives.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const unknown = await t.gql(`query { viewer { kind @hunter2directive } }`, {}, tenant.session);
    expect(unknown.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expectNoEcho(cycle.raw + directives.raw);
    await expectServing();
  });

  it("refuses very many operations or tokens at parse time", async () => {
    const manyOps = Array.from({ length: 2000 }, (_, i) => `query q${i} { viewer { kind } }`);
    const ops = await t.gql(manyOps.join(" "), {}, tenant.session);
    expect(ops.errors?.[0]?.message).toMatch(/Token limit of 3000/);
    expect(ops.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    const tokens = await post(
      JSON.stringify({ query: `{ viewer { ${"kind ".repeat(20_000)} } }` }),
      STRICT,
    );
    expect(tokens.status).toBe(400);
    expect(tokens.body.errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
    // Several operations without an operationName: nothing runs.
    const ambiguous = await t.gql(
      `query a { viewer { kind } } query b { viewer { kind } }`,
      {},
      tenant.session,
    );
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.errors?.[0]?.extensions?.code).toBe("OPERATION_RESOLUTION_FAILURE");
    await expectServing();
  });
});

describe("huge input", () => {
  it("refuses a 1 MB secret value by name of its key, without echoing it", async () => {
    const value = `hunter2-${"A".repeat(1024 * 1024)}`;
    let result: any;
    await expectNothingWritten(async () => {
      result = await secrets.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name: "huge-value",
        values: asInput({ PASSWORD: value }),
      });
    });
    expect(result.__typename).toBe("ValidationError");
    expect(result.code).toBe("VALIDATION_FAILED");
    expect(result.issues).toEqual([{ path: "values.PASSWORD", message: "is larger than 64 KiB" }]);
    expectNoEcho(t.responses.at(-1)!, "hunter2-AAAA");
    await expectServing();
  });

  it("refuses a 100 KB secret name without echoing it", async () => {
    const name = `hunter2${"a".repeat(100 * 1024)}`;
    let result: any;
    await expectNothingWritten(async () => {
      result = await secrets.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name,
        values: asInput({ K: "v" }),
      });
    });
    expect(result.__typename).toBe("ValidationError");
    expect(result.message).toMatch(/lowercase letters, digits/);
    expectNoEcho(t.responses.at(-1)!, "hunter2aaaa");
    await expectServing();
  });

  it("handles a document padded to nearly the body limit, and a 1 MB inline string", async () => {
    const padded = await t.gql(
      `# ${"x".repeat(1_900_000)}\n{ viewer { kind } }`,
      {},
      tenant.session,
    );
    expect(padded.data.viewer.kind).toBe("USER");
    const inline = await t.gql(
      `mutation { createSecret(input: { workspaceId: "${tenant.workspaceId}", name: "inline", values: [{ key: "K", value: "hunter2${"B".repeat(1024 * 1024)}" }] }) { __typename ... on ValidationError { issues { path message } } } }`,
      {},
      tenant.session,
    );
    expect(inline.data.createSecret.__typename).toBe("ValidationError");
    expect(inline.data.createSecret.issues[0].path).toBe("values.K");
    expectNoEcho(inline.raw, "hunter2BBBB");
    expect(await secretNames()).not.toContain("inline");
    await expectServing();
  });

  it("refuses deeply nested JSON arguments before anything recurses over them", async () => {
    const nested = `${"[".repeat(20_000)}"hunter2-deep"${"]".repeat(20_000)}`;
    const head = await eventHead();
    const viaVariables = await post(
      `{"query":${JSON.stringify(
        `mutation($i: ResolveSecretsInput!) { resolveSecrets(input: $i) { __typename } }`,
      )},"variables":{"i":{"arguments":${nested}}}}`,
      { "content-type": "application/json" },
      { token: resolver },
    );
    expect(viaVariables.status).toBe(400);
    expect(viaVariables.body.errors[0]).toEqual({
      message: "Input values may nest at most 64 levels deep",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expectNoEcho(viaVariables.raw, "hunter2-deep");
    // In the document itself (within the token limit).
    const literal = await t.gql(
      `mutation { resolveSecrets(input: { arguments: ${"[".repeat(1000)}1${"]".repeat(1000)} }) { __typename } }`,
      {},
      { token: resolver },
    );
    expect(literal.errors?.[0]?.message).toBe("Input values may nest at most 64 levels deep");
    expect(literal.data ?? null).toBeNull();
    // Not even a failed-resolution event: nothing ran.
    expect(await eventHead()).toBe(head);
    await expectServing();
  });
});

describe("over real HTTP", () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = createHttpServer({ yoga: t.app.yoga, db: t.db, logger: createLogger("silent") });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A raw HTTP request; the server may answer before the body is fully sent. */
  function request(
    headers: http.OutgoingHttpHeaders,
    writeBody: (req: http.ClientRequest) => void,
  ): Promise<{ status: number; raw: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        // A fresh connection each time: a refused body leaves its connection unusable.
        { host: "127.0.0.1", port, path: "/graphql", method: "POST", headers, agent: false },
        (res) => {
          let raw = "";
          res.on("data", (chunk) => (raw += String(chunk)));
          res.on("end", () => resolve({ status: res.statusCode!, raw }));
          // A refusal that closes the connection may end without "end".
          res.on("close", () => resolve({ status: res.statusCode!, raw }));
        },
      );
      req.on("error", (error) => {
        // A reset after the answer arrived is fine; before it, the test fails.
        if (!(error as NodeJS.ErrnoException).code?.match(/EPIPE|ECONNRESET/)) reject(error);
      });
      writeBody(req);
    });
  }

  async function expectHttpServing() {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ok = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${resolver}` },
      body: JSON.stringify({ query: `{ viewer { kind } }` }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).data.viewer.kind).toBe("API_TOKEN");
  }

  const bigBody = () =>
    JSON.stringify({
      query: `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
      variables: {
        i: {
          workspaceId: tenant.workspaceId,
          name: "too-big",
          values: [{ key: "K", value: `hunter2${"C".repeat(3 * 1024 * 1024)}` }],
        },
      },
    });

  it("answers 413 to a body over 2 MiB announced by Content-Length", async () => {
    const body = bigBody();
    const result = await request(
      {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        authorization: `Bearer ${resolver}`,
      },
      (req) => req.end(body),
    );
    expect(result.status).toBe(413);
    expect(JSON.parse(result.raw).errors[0].extensions.code).toBe("REQUEST_ENTITY_TOO_LARGE");
    expectNoEcho(result.raw, "hunter2CCCC");
    expect(await secretNames()).not.toContain("too-big");
    await expectHttpServing();
  });

  it("answers 413 to a chunked body that grows past 2 MiB", async () => {
    const body = Buffer.from(bigBody());
    const result = await request(
      { "content-type": "application/json", authorization: `Bearer ${resolver}` },
      (req) => {
        for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
        req.end();
      },
    );
    expect(result.status).toBe(413);
    expectNoEcho(result.raw, "hunter2CCCC");
    expect(await secretNames()).not.toContain("too-big");
    await expectHttpServing();
  });

  it("answers 431 to oversized headers", async () => {
    const headers = await request(
      { "content-type": "application/json", "x-padding": "hunter2".repeat(15_000) },
      (req) => req.end("{}"),
    );
    expect(headers.status).toBe(431);
    expectNoEcho(headers.raw, "hunter2");
    await expectHttpServing();
  });
});

describe("malformed values", () => {
  const garbageKey = `-----BEGIN RSA PRIVATE KEY-----\nhunter2KeyBody+/==\n-----END RSA PRIVATE KEY-----`;
  const garbageCert = `-----BEGIN CERTIFICATE-----\nhunter2CertBody+/==\n-----END CERTIFICATE-----`;

  it.each([
    [
      "SSH_KEY",
      { PRIVATE_KEY: garbageKey },
      "PRIVATE_KEY",
      /not a valid PEM or OpenSSH private key/,
    ],
    ["SSH_KEY", { PRIVATE_KEY: "hunter2 not pem at all" }, "PRIVATE_KEY", /not a valid/],
    ["CA_CERT", { CA_CERTIFICATE: garbageCert }, "CA_CERTIFICATE", /not a valid PEM certificate/],
    [
      "CA_CERT",
      { CA_CERTIFICATE: `${garbageCert}\nhunter2 trailing text` },
      "CA_CERTIFICATE",
      /something other than PEM certificates/,
    ],
    [
      "MTLS",
      { TLS_CERTIFICATE: garbageCert, TLS_PRIVATE_KEY: garbageKey },
      "TLS_CERTIFICATE",
      /not a valid PEM certificate/,
    ],
  ])("refuses malformed PEM in a %s secret", async (type, values, path, message) => {
    let result: any;
    await expectNothingWritten(async () => {
      result = await secrets.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name: "pem-secret",
        type,
        values: asInput(values),
      });
    });
    expect(result.__typename).toBe("ValidationError");
    const issue = result.issues.find((i: { path: string }) => i.path === path);
    expect(issue?.message).toMatch(message);
    expectNoEcho(t.responses.at(-1)!, "hunter2");
    await expectServing();
  });

  it.each([
    "arn:aws:iam::12:role/short-account",
    "arn:aws:s3:::hunter2-bucket",
    "arn:aws:iam::123456789012:user/hunter2",
    "arn:aws:iam::123456789012:role/hunter2 with spaces",
    "arn:aws:iam::123456789012:role/ok\nhunter2",
    `arn:aws:iam::123456789012:role/hunter2${"r".repeat(600)}`,
  ])("refuses the AWS role ARN %j", async (arn) => {
    let result: any;
    await expectNothingWritten(async () => {
      result = await secrets.configure(tenant.session, {
        workspaceId: tenant.workspaceId,
        templateId: "aws",
        values: asInput({ AWS_ROLE_ARN: arn, AWS_REGION: "eu-west-1" }),
      });
    });
    expect(result.__typename).toBe("ValidationError");
    expect(result.issues).toEqual([
      {
        path: "AWS_ROLE_ARN",
        message: "must be an IAM role ARN such as arn:aws:iam::123456789012:role/Name",
      },
    ]);
    expectNoEcho(t.responses.at(-1)!, "hunter2", "short-account");
    await expectServing();
  });

  it.each([
    "Hunter2",
    "-hunter2",
    "hunter2 space",
    "../hunter2",
    "hunter2.dot",
    `hunter2${"x".repeat(130)}`,
    "",
    "hunter2\u0000nul",
    "hunter2-é",
  ])("refuses the secret name %j", async (name) => {
    let result: any;
    await expectNothingWritten(async () => {
      result = await secrets.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name,
        values: asInput({ K: "v" }),
      });
    });
    expect(result.__typename).toBe("ValidationError");
    expect(result.message).toMatch(/lowercase letters, digits, '_' and '-'/);
    if (name) expectNoEcho(t.responses.at(-1)!, name);
  });

  it.each(["hunter2 env", "../hunter2", "-hunter2", `hunter2${"e".repeat(64)}`, "hunter2/x"])(
    "refuses the environment name %j when resolving, declaring and checking",
    async (environment) => {
      await expectNothingWritten(async () => {
        const resolved = await resolution.resolve(
          { token: resolver },
          { arguments: { a: "${{ SECRETS.github-pat.TOKEN }}" }, environment },
        );
        expect(resolved.__typename).toBe("ValidationError");
        expect(resolved.issues).toEqual([
          { path: "environment", message: "is not a valid environment name" },
        ]);
        const declared = await t.gql(
          `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename ... on ValidationError { code issues { path message } } } }`,
          { i: { workspaceId: tenant.workspaceId, name: environment } },
          tenant.session,
        );
        expect(declared.data.declareEnvironment.__typename).toBe("ValidationError");
        expectNoEcho(declared.raw, environment);
        const checked = await t.gql(
          `query($i: CheckSecretsInput!) { checkSecrets(input: $i) { ready } }`,
          { i: { actions: [{ refs: [{ name: "github-pat", key: "TOKEN" }], environment }] } },
          { token: resolver },
        );
        expect(checked.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
        expect(checked.errors?.[0]?.message).toBe(
          "actions[0].environment: is not a valid environment name",
        );
      });
      for (const response of t.responses.slice(-3)) expectNoEcho(response, environment);
      await expectServing();
    },
  );

  it("refuses a secret in an invalid environment without writing it", async () => {
    let result: any;
    await expectNothingWritten(async () => {
      result = await secrets.create(tenant.session, {
        workspaceId: tenant.workspaceId,
        name: "env-check",
        environment: "hunter2 env",
        values: asInput({ K: "v" }),
      });
    });
    expect(result.__typename).toBe("ValidationError");
    expect(result.issues[0].path).toBe("environment");
    await expectServing();
  });

  // Known defect, reported, not fixed here (server/src/secrets/secretService.ts is not ours):
  // for WORKSPACE/PERSONAL secrets the name is not checked against the pattern before the
  // "not declared" message, which quotes it back whole (a 100 KB name comes back whole).
  it("does not echo a pattern-invalid environment name back when writing a secret", async () => {
    const environment = `hunter2 ${"e".repeat(100 * 1024)}`;
    const result = await secrets.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "env-echo",
      environment,
      values: asInput({ K: "v" }),
    });
    expect(result.__typename).toBe("ValidationError");
    expectNoEcho(t.responses.at(-1)!, "hunter2 eeee");
  });

  it.each([
    ["${{ SECRETS.github-pat }}", /malformed secret expression/],
    ["${{ SECRETS..TOKEN }}", /malformed secret expression/],
    ["${{ SECRETS.GitHub.TOKEN }}", /malformed secret expression/],
    ["${{ SECRETS.github-pat.TOKEN.extra }}", /malformed secret expression/],
    ["${{ SECRETS.github-pat.9TOKEN }}", /malformed secret expression/],
    ["${{ secrets[github-pat] }}", /malformed secret expression/],
    ["${{ SECRETS.github-pat.TOKEN", /unclosed secret expression/],
  ])("refuses the expression %j with the argument's path", async (expression, message) => {
    const head = await eventHead();
    const args = { nested: { list: ["fine", expression] }, other: "hunter2-sibling-value" };
    const resolved = await resolution.resolve({ token: resolver }, { arguments: args });
    expect(resolved.__typename).toBe("ValidationError");
    expect(resolved.issues).toHaveLength(1);
    expect(resolved.issues[0].path).toBe("arguments.nested.list[1]");
    expect(resolved.issues[0].message).toMatch(message);
    expect(resolved.data).toBeUndefined();
    expectNoEcho(t.responses.at(-1)!, "hunter2-sibling-value", "seeded-token-value");
    const checked = await t.gql(
      `query($i: CheckSecretsInput!) { checkSecrets(input: $i) { ready } }`,
      { i: { actions: [{ actionRef: "a", arguments: args }] } },
      { token: resolver },
    );
    expect(checked.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
    expect(checked.errors?.[0]?.message).toMatch(/^actions\[0\]\.arguments\.nested\.list\[1\]: /);
    expectNoEcho(checked.raw, "hunter2-sibling-value", "seeded-token-value");
    // Malformed input is refused before lookup: no usage event, no value left the service.
    expect(await eventHead()).toBe(head);
    await expectServing();
  });

  it("cuts a long malformed expression short in the message", async () => {
    const expression = `\${{ SECRETS.github-pat.TOKEN ${"z".repeat(200)}hunter2-tail }}`;
    const resolved = await resolution.resolve(
      { token: resolver },
      { arguments: { a: expression } },
    );
    expect(resolved.__typename).toBe("ValidationError");
    expect(resolved.message.length).toBeLessThan(200);
    expectNoEcho(t.responses.at(-1)!, "hunter2-tail");
  });
});

describe("malformed requests", () => {
  it("answers 400 to invalid JSON without quoting the body", async () => {
    for (const body of [
      `{"variables":{"v":hunter2secretvalue}}`,
      `{not json`,
      `{"query":"{ viewer { kind } }","variables":{"v":"hunter2"`,
      "",
    ]) {
      const result = await post(body);
      expect(result.status).toBe(400);
      expect(result.body.errors[0].extensions.code).toBe("BAD_REQUEST");
      expect(result.body.errors[0].extensions.originalError).toBeUndefined();
      expectNoEcho(result.raw, "hunter2", "not json");
    }
    await expectServing();
  });

  it("answers 400 to a body that is not valid UTF-8, instead of storing U+FFFD", async () => {
    const before = Buffer.from(
      JSON.stringify({
        query: `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
        variables: {
          i: {
            workspaceId: tenant.workspaceId,
            name: "latin1",
            values: [{ key: "PASSWORD", value: "hunter2-XX" }],
          },
        },
      }),
    );
    // "XX" becomes 0xE9 0xFF: Latin-1 'é' and a byte that never occurs in UTF-8.
    const at = before.indexOf("XX");
    before[at] = 0xe9;
    before[at + 1] = 0xff;
    let result!: Raw;
    await expectNothingWritten(async () => {
      result = await post(before);
    });
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      errors: [
        { message: "The request body is not valid UTF-8", extensions: { code: "BAD_REQUEST" } },
      ],
    });
    expectNoEcho(result.raw, "hunter2");
    // Valid UTF-8 (with a BOM-less multi-byte character) still goes through.
    const accented = await secrets.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "utf8-ok",
      values: asInput({ PASSWORD: "mot-de-passe-é-✓" }),
    });
    expect(accented.__typename).toBe("MutationCreateSecretSuccess");
    await expectServing();
  });

  it("answers 415 to a content type it does not take, and executes nothing", async () => {
    const mutation = JSON.stringify({
      query: `mutation { createSecret(input: { workspaceId: "${tenant.workspaceId}", name: "wrong-type", values: [{ key: "K", value: "v" }] }) { __typename } }`,
    });
    for (const type of ["text/plain", "application/xml", "application/octet-stream"]) {
      await expectNothingWritten(async () => {
        const result = await post(mutation, { "content-type": type }, { token: resolver });
        expect(result.status).toBe(415);
      });
    }
    await expectServing();
  });

  it("answers 400 to variables that are not an object and bodies that are not one", async () => {
    for (const variables of [[1, 2], "hunter2", 42, true]) {
      const result = await post(JSON.stringify({ query: `{ viewer { kind } }`, variables }));
      expect(result.status).toBe(400);
      expect(result.body.errors[0].message).toMatch(
        /^Expected "variables" param to be empty or an object, but given \w+\.$/,
      );
      expect(result.body.errors[0].extensions.code).toBe("BAD_REQUEST");
      expectNoEcho(result.raw, "hunter2");
    }
    for (const body of [`"hunter2"`, `42`, `null`, `[{"query":"{ viewer { kind } }"}]`]) {
      const result = await post(body);
      expect(result.status).toBe(400);
      expect(result.body.errors[0].extensions.code).toBe("BAD_REQUEST");
      expectNoEcho(result.raw, "hunter2");
    }
    const noQuery = await post(JSON.stringify({ query: 42 }));
    expect(noQuery.status).toBe(400);
    await expectServing();
  });

  it.each([
    [
      "an object for an ID",
      `query($id: ID!) { secret(id: $id) { id } }`,
      { id: { hunter2: "x" } },
      // graphql-jit's coercion (graphql/yoga.ts) names the variable and the expected type.
      'Variable "$id" got an invalid value; Expected type ID; ID cannot represent this value',
    ],
    [
      "a string for an Int",
      `query($n: Int) { viewer { organizations { workspaces(first: $n) { edges { node { id } } } } } }`,
      { n: "hunter2" },
      'Variable "$n" got an invalid value; Expected type Int; Int cannot represent this non-integer value',
    ],
    [
      "a number for a secret value",
      `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
      { i: { workspaceId: "W", name: "n", values: [{ key: "K", value: 918273645 }] } },
      'Variable "$value" got an invalid value; Expected type String; String cannot represent this non string value',
    ],
  ])(
    "refuses %s with a coded error and without echoing it",
    async (_label, query, variables, message) => {
      const head = await eventHead();
      const result = await t.gql(query, variables, tenant.session);
      expect(result.status).toBe(200);
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0]).toEqual({ message, extensions: { code: "BAD_USER_INPUT" } });
      expectNoEcho(result.raw, "hunter2", "HUNTER2", "918273645");
      const strict = await post(JSON.stringify({ query, variables }), STRICT);
      expect(strict.status).toBe(400);
      expect(await eventHead()).toBe(head);
      await expectServing();
    },
  );

  // Known defect, reported, not fixed here (server/src/graphql/inputErrorMessage.ts is not
  // ours): graphql 16's enum message `Value "X" does not exist in "SecretType" enum.` has no
  // pattern in withoutInputValues, so the value comes back (and the error has no code).
  it("refuses an unknown enum value without echoing it", async () => {
    const result = await t.gql(
      `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
      { i: { workspaceId: "W", name: "n", type: "HUNTER2", values: [] } },
      tenant.session,
    );
    expect(result.errors?.[0]?.message).toMatch(/SecretType/);
    expectNoEcho(result.raw, "HUNTER2");
  });

  it("refuses a missing required variable and an unknown field in an input", async () => {
    const missing = await t.gql(
      `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
      {},
      tenant.session,
    );
    expect(missing.errors?.[0]?.message).toMatch(/Variable "\$i" of required type/);
    expect(missing.data ?? null).toBeNull();
    const unknown = await t.gql(
      `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename } }`,
      {
        i: { workspaceId: tenant.workspaceId, name: "x", values: [], hunter2Field: "hunter2" },
      },
      tenant.session,
    );
    expect(unknown.errors?.length).toBe(1);
    expect(unknown.data ?? null).toBeNull();
    await expectServing();
  });
});
