import { randomBytes, randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../server/src/app/createApp.ts";
import { createLogger } from "../server/src/logger.ts";
import { verifyChain } from "../server/src/eventstore/verifyChain.ts";
import { LocalTransit } from "../server/src/transit/LocalTransit.ts";
import { PrismaKeyringStore } from "../server/src/transit/PrismaKeyringStore.ts";
import { organizationKeyName } from "../server/src/transit/Transit.ts";
import {
  TransitKeyNotFoundError,
  TransitUnavailableError,
} from "../server/src/transit/TransitError.ts";
import { startOAuthServer } from "./testkit/oauthServer.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";
import { interceptTransit } from "./testkit/interceptTransit.ts";

/** rewrap calls left before the transit engine "goes away" (null: never). */
let rewrapCallsBeforeOutage: number | null = null;
/** When set, setMinDecryptionVersion waits for it (or fails, when it rejects). */
let minVersionGate: Promise<void> | null = null;
let t: TestApp;
let ops: ReturnType<typeof secretOps>;
const decode = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;

beforeAll(async () => {
  t = await startTestApp({
    tuning: { rewrapBatchSize: 10 },
    transit: (local) =>
      interceptTransit(local, async (method) => {
        if (method === "setMinDecryptionVersion" && minVersionGate) await minVersionGate;
        if (
          method === "rewrap" &&
          rewrapCallsBeforeOutage !== null &&
          rewrapCallsBeforeOutage-- <= 0
        )
          throw new TransitUnavailableError("Vault is unavailable (test)");
      }),
  });
  ops = secretOps(t);
});
afterAll(() => t.close());

const STATUS = `query($id: ID!) { organization(id: $id) { transitKey { keyName latestVersion minDecryptionVersion ciphertextsByVersion { keyVersion count } latestRewrapJob { status total rewrapped lastError } } } }`;
const status = async (tenant: { session: { cookie: string }; organizationId: string }) =>
  (await t.gql(STATUS, { id: tenant.organizationId }, tenant.session)).data.organization.transitKey;

async function tenantWithSecrets(count: number) {
  const tenant = await t.createTenant();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: `s-${i}`,
      values: asInput({ K: `value-${i}` }),
    });
    ids.push(created.data.secret.id);
  }
  return { ...tenant, ids };
}

const allDecrypt = async (tenant: { organizationId: string; ids: string[] }) => {
  for (const [i, id] of tenant.ids.entries()) {
    const values = await t.app.services.secrets.decryptVersion(
      { id: decode(id), organizationId: decode(tenant.organizationId) },
      1,
    );
    expect(values).toEqual({ K: `value-${i}` });
  }
};

describe("key rotation and re-wrap", () => {
  it("moves every ciphertext to the new key version, still decrypting, then raises the minimum", async () => {
    const tenant = await tenantWithSecrets(25);
    expect((await status(tenant)).ciphertextsByVersion).toEqual([{ keyVersion: 1, count: 25 }]);
    const rotated = await t.gql(
      `mutation($id: ID!) { rotateTransitKey(organizationId: $id) { __typename ... on MutationRotateTransitKeySuccess { data { latestVersion } } } }`,
      { id: tenant.organizationId },
      tenant.session,
    );
    expect(rotated.data.rotateTransitKey.data.latestVersion).toBe(2);
    // New writes use the new version at once.
    const fresh = await ops.create(tenant.session, {
      workspaceId: tenant.workspaceId,
      name: "after-rotation",
      values: asInput({ K: "after" }),
    });
    expect(fresh.data.secret.versions[0].transitKeyVersion).toBe(2);

    const started = await t.app.services.transitKeys.startRewrap(
      {
        actor: {
          kind: "user",
          userId: tenant.owner.userId,
          sessionId: "test",
          mfa: false,
          ssoOrganizationId: null,
        },
        metadata: { actor: { kind: "user", id: tenant.owner.userId } },
      },
      decode(tenant.organizationId),
    );
    await started.done;
    expect(await status(tenant)).toMatchObject({
      latestVersion: 2,
      minDecryptionVersion: 2,
      ciphertextsByVersion: [{ keyVersion: 2, count: 26 }],
      latestRewrapJob: { status: "COMPLETED", total: 25, rewrapped: 25, lastError: null },
    });
    await allDecrypt(tenant);
    const types = await t.database.admin<{ type: string }>(
      `SELECT type FROM events WHERE stream_id = $1 ORDER BY position`,
      [`transit-key-${decode(tenant.organizationId)}`],
    );
    expect(types.map((r) => r.type)).toEqual([
      "TransitKeyRotated",
      "SecretsRewrapStarted",
      "TransitKeyMinimumRaised",
      "SecretsRewrapCompleted",
    ]);
    expect((await verifyChain(t.db, decode(tenant.organizationId))).ok).toBe(true);
  });

  it("a job that dies half-way completes when run again, also from a restarted process", async () => {
    const tenant = await tenantWithSecrets(35);
    const caller = {
      actor: {
        kind: "user" as const,
        userId: tenant.owner.userId,
        sessionId: "test",
        mfa: false,
        ssoOrganizationId: null,
      },
      metadata: { actor: { kind: "user" as const, id: tenant.owner.userId } },
    };
    await t.app.services.transitKeys.rotateKey(caller, decode(tenant.organizationId));
    rewrapCallsBeforeOutage = 2; // two batches of 10 succeed, then the transit engine goes away
    const first = await t.app.services.transitKeys.startRewrap(
      caller,
      decode(tenant.organizationId),
    );
    await expect(first.done).rejects.toBeInstanceOf(TransitUnavailableError);
    rewrapCallsBeforeOutage = null;
    const halfway = await status(tenant);
    expect(halfway).toMatchObject({
      minDecryptionVersion: 1,
      latestRewrapJob: { status: "FAILED", total: 35, rewrapped: 20 },
    });
    expect(halfway.ciphertextsByVersion).toEqual([
      { keyVersion: 1, count: 15 },
      { keyVersion: 2, count: 20 },
    ]);
    expect(halfway.latestRewrapJob.lastError).toMatch(/unavailable/);
    await allDecrypt(tenant); // old and new versions both decrypt meanwhile

    // A process killed mid-job leaves it RUNNING; a new process resumes it.
    await t.database.admin(`UPDATE rewrap_jobs SET status = 'RUNNING' WHERE organization_id = $1`, [
      decode(tenant.organizationId),
    ]);
    const restarted = createApp({
      db: t.db,
      logger: createLogger("silent"),
      transit: t.transit,
      sessionTtlMs: 60_000,
      secureCookie: false,
      tuning: { rewrapBatchSize: 10 },
      egress: t.egress,
    });
    const resumed = await restarted.services.transitKeys.startRewrap(
      caller,
      decode(tenant.organizationId),
    );
    expect(resumed.job.id).toBe(first.job.id);
    await resumed.done;
    expect(await status(tenant)).toMatchObject({
      minDecryptionVersion: 2,
      ciphertextsByVersion: [{ keyVersion: 2, count: 35 }],
      latestRewrapJob: { status: "COMPLETED" },
    });
    await allDecrypt(tenant);
  });

  it("is never COMPLETED before the key refuses old versions; a failure there resumes there", async () => {
    const tenant = await tenantWithSecrets(3);
    const caller = {
      actor: {
        kind: "user" as const,
        userId: tenant.owner.userId,
        sessionId: "test",
        mfa: false,
        ssoOrganizationId: null,
      },
      metadata: { actor: { kind: "user" as const, id: tenant.owner.userId } },
    };
    const organizationId = decode(tenant.organizationId);
    await t.app.services.transitKeys.rotateKey(caller, organizationId);
    let fail!: (error: Error) => void;
    minVersionGate = new Promise<void>((_resolve, reject) => (fail = reject));
    const first = await t.app.services.transitKeys.startRewrap(caller, organizationId);
    // Every ciphertext has moved and the organization refuses old ones, but the key does
    // not yet: the job says FINALIZING, not COMPLETED.
    for (let i = 0; (await status(tenant)).latestRewrapJob.status !== "FINALIZING"; i++) {
      if (i > 400) throw new Error("the job never reached FINALIZING");
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await status(tenant)).toMatchObject({
      minDecryptionVersion: 1,
      ciphertextsByVersion: [{ keyVersion: 2, count: 3 }],
    });
    fail(new TransitUnavailableError("Vault is unavailable (test)"));
    await expect(first.done).rejects.toBeInstanceOf(TransitUnavailableError);
    minVersionGate = null;
    expect(await status(tenant)).toMatchObject({
      minDecryptionVersion: 1,
      latestRewrapJob: { status: "FAILED", lastError: expect.stringMatching(/unavailable/) },
    });
    // Run again: it goes straight to raising the key's minimum, and completes once.
    const resumed = await t.app.services.transitKeys.startRewrap(caller, organizationId);
    expect(resumed.job).toMatchObject({ id: first.job.id, status: "FINALIZING" });
    await resumed.done;
    expect(await status(tenant)).toMatchObject({
      minDecryptionVersion: 2,
      latestRewrapJob: { status: "COMPLETED", total: 3, rewrapped: 3, lastError: null },
    });
    const types = await t.database.admin<{ type: string }>(
      `SELECT type FROM events WHERE stream_id = $1 ORDER BY position`,
      [`transit-key-${organizationId}`],
    );
    expect(types.map((r) => r.type)).toEqual([
      "TransitKeyRotated",
      "SecretsRewrapStarted",
      "TransitKeyMinimumRaised",
      "SecretsRewrapCompleted",
    ]);
    await allDecrypt(tenant);
  });

  it("moves OAuth client secrets and tokens and webhook signing keys too, so they still open", async () => {
    const idp = await startOAuthServer();
    try {
      const tenant = await tenantWithSecrets(1);
      const ERR = `__typename ... on Error { message }`;
      const provider = await t.ok<{ providerId: string }>(
        "createCustomOAuthProvider",
        `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { ${ERR} ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } } } }`,
        {
          i: {
            workspaceId: tenant.workspaceId,
            name: "Rewrapped API",
            tokenEndpoint: idp.tokenEndpoint,
            grantTypes: ["client_credentials"],
            clientId: idp.client.clientId,
            clientSecret: idp.client.clientSecret,
          },
        },
        tenant.session,
      );
      const connect = () =>
        t.ok<{ id: string; expression: string }>(
          "connectOAuthClientCredentials",
          `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { ${ERR} ... on MutationConnectOAuthClientCredentialsSuccess { data { id expression } } } }`,
          {
            i: {
              workspaceId: tenant.workspaceId,
              providerId: provider.providerId,
              scopes: ["read"],
            },
          },
          tenant.session,
        );
      const connection = await connect();
      await t.ok(
        "createWebhookSubscription",
        `mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { ${ERR} ... on MutationCreateWebhookSubscriptionSuccess { data { signingSecret } } } }`,
        { i: { organizationId: tenant.organizationId, url: "https://siem.example.test/hook" } },
        tenant.session,
      );
      const organizationId = decode(tenant.organizationId);
      const caller = {
        actor: {
          kind: "user" as const,
          userId: tenant.owner.userId,
          sessionId: "test",
          mfa: false,
          ssoOrganizationId: null,
        },
        metadata: { actor: { kind: "user" as const, id: tenant.owner.userId } },
      };
      await t.app.services.transitKeys.rotateKey(caller, organizationId);
      await (
        await t.app.services.transitKeys.startRewrap(caller, organizationId)
      ).done;

      const sealed = await t.database.admin<{ c: string }>(
        `SELECT client_secret_ciphertext AS c FROM oauth_providers WHERE organization_id = $1
         UNION ALL SELECT access_token_ciphertext FROM oauth_connections WHERE organization_id = $1
         UNION ALL SELECT secret_ciphertext FROM webhook_subscriptions WHERE organization_id = $1`,
        [organizationId],
      );
      expect(sealed.length).toBe(3);
      for (const { c } of sealed) expect(c).toMatch(/^vault:v2:/);
      expect((await status(tenant)).minDecryptionVersion).toBe(2);
      // The access token still resolves, and the client secret still opens: connecting again
      // authenticates to the provider with it.
      const [, name, key] = /SECRETS\.([^.]+)\.(\w+)/.exec(connection.expression)!;
      const resolver = await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, [
        "SECRETS_RESOLVE",
      ]);
      const resolved = await t.gql(
        `mutation($i: ResolveSecretsInput!) { resolveSecrets(input: $i) { __typename ... on MutationResolveSecretsSuccess { data { values { value } } } } }`,
        { i: { refs: [{ name, key }] } },
        { token: resolver.token },
      );
      expect(resolved.data.resolveSecrets.__typename).toBe("MutationResolveSecretsSuccess");
      expect(resolved.data.resolveSecrets.data.values[0].value.length).toBeGreaterThan(10);
      await t.ok(
        "disconnectOAuth",
        `mutation($w: ID!, $c: ID!) { disconnectOAuth(workspaceId: $w, connectionId: $c) { ${ERR} ... on MutationDisconnectOAuthSuccess { data } } }`,
        { w: tenant.workspaceId, c: connection.id },
        tenant.session,
      );
      await connect();
    } finally {
      await idp.close();
    }
  });

  it("is for organization OWNERs, and answers for another organization as for a missing one", async () => {
    const tenant = await t.createTenant();
    const other = await t.createTenant();
    const admin = await t.addMember(tenant, "ADMIN");
    const rotate = (auth: { cookie: string }, id: string) =>
      t.gql(
        `mutation($id: ID!) { rotateTransitKey(organizationId: $id) { __typename ... on Error { message } } }`,
        { id },
        auth,
      );
    const rewrap = (auth: { cookie: string }, id: string) =>
      t.gql(
        `mutation($id: ID!) { rewrapSecrets(organizationId: $id) { __typename ... on Error { message } } }`,
        { id },
        auth,
      );
    expect(
      (await rotate(admin.session, tenant.organizationId)).data.rotateTransitKey.__typename,
    ).toBe("ForbiddenError");
    expect((await rewrap(admin.session, tenant.organizationId)).data.rewrapSecrets.__typename).toBe(
      "ForbiddenError",
    );
    const missing = encodeGlobalID("Organization", randomUUID());
    expect((await rotate(tenant.session, other.organizationId)).data).toEqual(
      (await rotate(tenant.session, missing)).data,
    );
    expect((await rewrap(tenant.session, other.organizationId)).data).toEqual(
      (await rewrap(tenant.session, missing)).data,
    );
    expect(
      (await t.gql(STATUS, { id: other.organizationId }, tenant.session)).data.organization,
    ).toBeNull();
    const del = (id: string) =>
      t.gql(
        `mutation($i: DeleteOrganizationInput!) { deleteOrganization(input: $i) { __typename ... on Error { message } } }`,
        { i: { organizationId: id, confirmSlug: "x" } },
        tenant.session,
      );
    expect((await del(other.organizationId)).data).toEqual((await del(missing)).data);
  });
});

describe("crypto-shredding", () => {
  it("deleting an organization destroys its key: its ciphertexts never decrypt again, through any adapter", async () => {
    const tenant = await tenantWithSecrets(3);
    const token = await t.issueToken(tenant.session, { organizationId: tenant.organizationId }, [
      "SECRETS_READ",
    ]);
    const member = await t.addMember(tenant, "ADMIN");
    const del = (auth: { cookie: string }, confirmSlug: string) =>
      t.gql(
        `mutation($i: DeleteOrganizationInput!) { deleteOrganization(input: $i) { __typename ... on Error { message } ... on MutationDeleteOrganizationSuccess { data { slug } } } }`,
        { i: { organizationId: tenant.organizationId, confirmSlug } },
        auth,
      );
    const slug = (
      await t.gql(
        `query($id: ID!) { organization(id: $id) { slug } }`,
        { id: tenant.organizationId },
        tenant.session,
      )
    ).data.organization.slug;
    expect((await del(member.session, slug)).data.deleteOrganization.__typename).toBe(
      "ForbiddenError",
    );
    expect((await del(tenant.session, "wrong")).data.deleteOrganization.__typename).toBe(
      "ValidationError",
    );
    const ciphertexts = (
      await t.database.admin<{ c: string }>(
        `SELECT ciphertext AS c FROM secret_versions WHERE organization_id = $1`,
        [decode(tenant.organizationId)],
      )
    ).map((r) => r.c);
    expect(ciphertexts).toHaveLength(3);

    expect((await del(tenant.session, slug)).data.deleteOrganization).toEqual({
      __typename: "MutationDeleteOrganizationSuccess",
      data: { slug },
    });
    const keyName = organizationKeyName(decode(tenant.organizationId));
    await expect(t.transit.decrypt(keyName, ciphertexts)).rejects.toBeInstanceOf(
      TransitKeyNotFoundError,
    );
    // Another process, even with the master key, has nothing left to decrypt with.
    const elsewhere = new LocalTransit(new PrismaKeyringStore(t.db, randomBytes(32)));
    await expect(elsewhere.decrypt(keyName, ciphertexts)).rejects.toBeInstanceOf(
      TransitKeyNotFoundError,
    );
    expect(await t.transit.readKey(keyName)).toBeNull();

    // The organization is gone for its users and tokens; its history stays.
    expect(
      (
        await t.gql(
          `query($id: ID!) { organization(id: $id) { id } }`,
          { id: tenant.organizationId },
          tenant.session,
        )
      ).data.organization,
    ).toBeNull();
    expect(
      (await t.gql(`{ viewer { kind } }`, {}, { token: token.token })).errors?.[0]?.extensions
        ?.code,
    ).toBe("UNAUTHENTICATED");
    const types = await t.database.admin<{ type: string }>(
      `SELECT type FROM events WHERE organization_id = $1 ORDER BY position DESC LIMIT 2`,
      [decode(tenant.organizationId)],
    );
    expect(types.map((r) => r.type)).toEqual(["TransitKeyDestroyed", "OrganizationDeleted"]);
    expect((await verifyChain(t.db, decode(tenant.organizationId))).ok).toBe(true);
  });
});
