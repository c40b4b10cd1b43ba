import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import pg from "pg";
import { createApp } from "../../server/src/app/createApp.ts";
import { createPrismaClient, type Db } from "../../server/src/db/database.ts";
import { inTransaction } from "../../server/src/eventstore/executeCommand.ts";
import { createLogger } from "../../server/src/logger.ts";
import { registerUser } from "../../server/src/tenancy/users.ts";
import { LocalTransit } from "../../server/src/transit/LocalTransit.ts";
import { PrismaKeyringStore } from "../../server/src/transit/PrismaKeyringStore.ts";
import type { Transit } from "../../server/src/transit/Transit.ts";
import type { DynamicCredentials } from "../../server/src/resolution/dynamicCredentials.ts";
import { inject } from "vitest";
import { recordingTransit, reportScan, scanForPlaintext } from "./plaintextScan.ts";
import { rebuildAndCompare } from "../../server/src/projections/rebuild.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { testEgressPair, type TestEgressOptions } from "./egress.ts";

export type GqlResult<T = Record<string, any>> = {
  status: number;
  data: T;
  errors?: { message: string; extensions?: { code?: string } }[];
  headers: Headers;
  raw: string;
};

/** How a request authenticates: a session cookie, a bearer token, or nothing. */
export type Auth =
  { cookie?: string; token?: string; headers?: Record<string, string> } | undefined;

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/**
 * The real app (services, Yoga, Prisma) over a fresh real PostgreSQL database, called
 * through `yoga.fetch`. Every log line and every response body is kept, so tests can
 * scan them for values that must never appear.
 */
export async function startTestApp(
  options: {
    clock?: () => Date;
    transit?: (local: Transit) => Transit;
    tuning?: { keepVersions?: number; rewrapBatchSize?: number };
    dynamic?: (db: Db) => DynamicCredentials;
    rateLimits?: { signInsPerMinute: number; resolutionsPerMinute: number };
    /** LocalTransit's master key; random by default. Pass one to share the keyring with another process. */
    masterKey?: Buffer;
    /** Another app's database, to run a second replica on it; a fresh one by default. */
    database?: TestDatabase;
    /** Count rate limits in PostgreSQL (shared with every app on the database), not in memory. */
    sharedRateLimits?: boolean;
    /** The egress guards' policy and stubbed names; loopback allowed by default. */
    egress?: TestEgressOptions;
  } = {},
) {
  const database: TestDatabase = options.database ?? (await createTestDatabase());
  const rateLimitStore = options.sharedRateLimits
    ? new pg.Pool({ connectionString: database.appUrl, max: 2 })
    : undefined;
  let statements = 0;
  const db: Db = createPrismaClient(database.appUrl, 4, () => statements++);
  const logs: string[] = [];
  const responses: string[] = [];
  const exchanges: { query: string; raw: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger("debug", sink);
  // The embedded transit adapter over this database, with a throwaway master key.
  const localTransit = new LocalTransit(
    new PrismaKeyringStore(db, options.masterKey ?? randomBytes(32)),
  );
  // Every value stored and every ciphertext made is recorded for the plaintext scan in close().
  const recorder = recordingTransit(options.transit ? options.transit(localTransit) : localTransit);
  const transit = recorder.transit;
  const egress = testEgressPair(options.egress);
  const app = createApp({
    db,
    logger,
    transit,
    sessionTtlMs: 3_600_000,
    secureCookie: false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.tuning ? { tuning: options.tuning } : {}),
    publicUrl: () => "http://coffer.test",
    ...(options.rateLimits || rateLimitStore
      ? {
          rateLimits: {
            ...(options.rateLimits ?? { signInsPerMinute: 10, resolutionsPerMinute: 1200 }),
            ...(rateLimitStore ? { store: rateLimitStore } : {}),
          },
        }
      : {}),
    egress,
    ...(options.dynamic ? { dynamic: options.dynamic(db) } : {}),
  });
  // As main.ts: resolutions authenticate their token from memory while subscribed.
  const stopTokenCache = await app.services.apiTokens.listen(database.appUrl);

  async function gql<T = Record<string, any>>(
    query: string,
    variables: Record<string, unknown> = {},
    auth?: Auth,
  ): Promise<GqlResult<T>> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      ...auth?.headers,
    };
    if (auth?.cookie) headers.cookie = auth.cookie;
    if (auth?.token) headers.authorization = `Bearer ${auth.token}`;
    const response = await app.yoga.fetch("http://coffer.test/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const raw = await response.text();
    responses.push(raw);
    exchanges.push({ query, raw });
    const body = JSON.parse(raw) as { data: T; errors?: GqlResult["errors"] };
    return {
      status: response.status,
      data: body.data,
      ...(body.errors ? { errors: body.errors } : {}),
      headers: response.headers,
      raw,
    };
  }

  /** Asserts a mutation's typed result is its success object and returns `data`. */
  async function ok<T = any>(
    field: string,
    query: string,
    variables: Record<string, unknown>,
    auth: Auth,
  ): Promise<T> {
    const result = await gql(query, variables, auth);
    const value = result.data?.[field];
    if (result.errors || !value || (value.__typename && !value.__typename.endsWith("Success"))) {
      throw new Error(`${field} failed: ${result.raw}`);
    }
    return (value.data ?? value) as T;
  }

  async function createUser(
    email = `user-${randomUUID().slice(0, 8)}@example.test`,
    password = `pw-${randomUUID()}`,
  ) {
    const userId = randomUUID();
    await inTransaction(db, (tx) =>
      registerUser(tx, {
        userId,
        email,
        name: email.split("@")[0]!,
        password,
        metadata: { actor: { kind: "system", id: "test" } },
        now: new Date(),
      }),
    );
    return { userId, email, password };
  }

  async function signIn(email: string, password: string): Promise<{ cookie: string }> {
    const result = await gql(
      `mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on MutationSignInSuccess { data { id } } ... on Error { message } } }`,
      { input: { email, password } },
    );
    const setCookie = result.headers.get("set-cookie");
    if (!setCookie) throw new Error(`sign-in failed: ${result.raw}`);
    return { cookie: setCookie.split(";")[0]! };
  }

  /** A user who owns a fresh organization with one workspace; ids are global ids. */
  async function createTenant(name = `Org ${randomUUID().slice(0, 6)}`) {
    const owner = await createUser();
    const session = await signIn(owner.email, owner.password);
    const org = await ok<{ id: string }>(
      "createOrganization",
      `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { __typename ... on MutationCreateOrganizationSuccess { data { id } } ... on Error { message } } }`,
      { input: { name } },
      session,
    );
    const workspace = await ok<{ id: string; environments: { id: string; name: string }[] }>(
      "createWorkspace",
      `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { __typename ... on MutationCreateWorkspaceSuccess { data { id environments { id name } } } ... on Error { message } } }`,
      { input: { organizationId: org.id, name: "Main" } },
      session,
    );
    return {
      owner,
      session,
      organizationId: org.id,
      workspaceId: workspace.id,
      defaultEnvironmentId: workspace.environments[0]!.id,
    };
  }

  /** Adds a member to the tenant's organization (and optionally its workspace) and signs them in. */
  async function addMember(
    tenant: Awaited<ReturnType<typeof createTenant>>,
    orgRole: "OWNER" | "ADMIN" | "MEMBER",
    workspaceRole?: "ADMIN" | "EDITOR" | "VIEWER",
  ) {
    const user = await createUser();
    const session = await signIn(user.email, user.password);
    await joinByInvitation(tenant, user.email, orgRole, session);
    if (workspaceRole) {
      await ok(
        "addWorkspaceMember",
        `mutation($input: WorkspaceMemberInput!) { addWorkspaceMember(input: $input) { __typename ... on MutationAddWorkspaceMemberSuccess { data { role } } ... on Error { message } } }`,
        { input: { workspaceId: tenant.workspaceId, userId: user.userId, role: workspaceRole } },
        tenant.session,
      );
    }
    return { ...user, session };
  }

  /** An admin invites `email` with `role`; the invitee, signed in as it, accepts. */
  async function joinByInvitation(
    tenant: { organizationId: string; session: Auth },
    email: string,
    role: "OWNER" | "ADMIN" | "MEMBER",
    invitee: Auth,
  ) {
    const { url } = await ok<{ url: string }>(
      "inviteOrganizationMember",
      `mutation($input: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $input) { __typename ... on MutationInviteOrganizationMemberSuccess { data { url } } ... on Error { message } } }`,
      { input: { organizationId: tenant.organizationId, email, role } },
      tenant.session,
    );
    await ok(
      "acceptInvitation",
      `mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { __typename ... on MutationAcceptInvitationSuccess { data { id } } ... on Error { message } } }`,
      { input: { token: url.split("#")[1]! } },
      invitee,
    );
  }

  async function issueToken(
    session: Auth,
    scope: { organizationId: string } | { workspaceId: string },
    permissions: string[],
  ) {
    return ok<{ apiToken: { id: string }; token: string }>(
      "issueApiToken",
      `mutation($input: IssueApiTokenInput!) { issueApiToken(input: $input) { __typename ... on MutationIssueApiTokenSuccess { data { apiToken { id } token } } ... on Error { message } } }`,
      { input: { ...scope, name: "platform", permissions } },
      session,
    );
  }

  return {
    db,
    database,
    app,
    transit,
    /** The guards the app uses; give `egress.webhooks` to a dispatcher. */
    egress,
    /** SQL statements the app sent since the last call. */
    takeStatementCount() {
      const n = statements;
      statements = 0;
      return n;
    },
    logs,
    responses,
    gql,
    ok,
    createUser,
    signIn,
    createTenant,
    addMember,
    joinByInvitation,
    issueToken,
    /**
     * Before letting go of the database, replays its whole event log into fresh projection
     * tables and fails if they differ from what the tests left behind: every test file
     * thereby checks that its projections are exactly what the events say.
     */
    async close(options: { verifyProjections?: boolean } = {}) {
      try {
        const scan = await scanForPlaintext({
          database,
          values: recorder.values,
          ciphertexts: recorder.ciphertexts,
          logs,
          exchanges,
        });
        reportScan(inject("scanReport"), scan);
        if (scan.hits.length)
          throw new Error(`Stored values or ciphertexts leaked:\n${scan.hits.join("\n")}`);
        if (options.verifyProjections === false) return;
        const { differences } = await rebuildAndCompare(db, inject("pgAdminUrl"));
        if (differences.length)
          throw new Error(
            `Projections differ from a replay of the events:\n${JSON.stringify(differences, null, 2)}`,
          );
      } finally {
        await stopTokenCache();
        await db.$disconnect();
        await rateLimitStore?.end();
        await Promise.all([egress.oauth.close(), egress.webhooks.close()]);
      }
    },
  };
}
