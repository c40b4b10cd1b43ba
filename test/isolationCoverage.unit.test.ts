import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { schema } from "../server/src/graphql/schema.ts";

/**
 * Every root field of the schema must say how tenant isolation is tested for it, and the
 * named test file must exercise it. A new query or mutation without an entry fails here
 * (the first step towards the schema-generated matrix of issue 9).
 *  - "cross-tenant": the file asks for another tenant's object and expects the answer for a
 *    missing one;
 *  - "own": the field only ever acts on the caller themselves (their session, their new
 *    organization), so there is no other tenant's object to ask for;
 *  - "public": no tenant data at all.
 */
const COVERAGE: Record<string, { kind: "cross-tenant" | "own" | "public"; file: string }> = {
  // queries
  auditEvents: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  checkSecrets: { kind: "cross-tenant", file: "resolution.isolation.int.test.ts" },
  credentialTemplates: { kind: "public", file: "secrets.int.test.ts" },
  node: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  nodes: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  organization: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  secret: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
  verifyAuditChain: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  viewer: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  workspace: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  // mutations
  addOrganizationMember: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  addWorkspaceMember: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  changeOrganizationMemberRole: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  changePassword: { kind: "own", file: "auth.int.test.ts" },
  changeWorkspaceMemberRole: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  completeOAuthAuthorization: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  configureCredential: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
  configureOAuthProvider: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  connectOAuthClientCredentials: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  createCustomOAuthProvider: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  createOrganization: { kind: "own", file: "tenancy.int.test.ts" },
  createSecret: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
  createWebhookSubscription: { kind: "cross-tenant", file: "webhooks.int.test.ts" },
  createWorkspace: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  declareEnvironment: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  deleteEnvironment: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  deleteOAuthProvider: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  deleteOrganization: { kind: "cross-tenant", file: "transitKeys.int.test.ts" },
  deleteSecret: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
  deleteWebhookSubscription: { kind: "cross-tenant", file: "webhooks.int.test.ts" },
  disconnectOAuth: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  issueApiToken: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  removeOrganizationMember: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  removeWorkspaceMember: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  resolveSecrets: { kind: "cross-tenant", file: "resolution.isolation.int.test.ts" },
  restoreSecretVersion: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
  revokeApiToken: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  rewrapSecrets: { kind: "cross-tenant", file: "transitKeys.int.test.ts" },
  rotateAwsExternalId: { kind: "cross-tenant", file: "isolation.int.test.ts" },
  rotateSecret: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
  rotateTransitKey: { kind: "cross-tenant", file: "transitKeys.int.test.ts" },
  shareSecret: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
  signIn: { kind: "public", file: "auth.int.test.ts" },
  signOut: { kind: "own", file: "isolation.int.test.ts" },
  startOAuthAuthorization: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  updateCustomOAuthProvider: { kind: "cross-tenant", file: "oauth.int.test.ts" },
  updateSecret: { kind: "cross-tenant", file: "secrets.isolation.int.test.ts" },
};

const fields = [
  ...Object.keys(schema.getQueryType()!.getFields()),
  ...Object.keys(schema.getMutationType()!.getFields()),
].sort();

describe("tenant-isolation coverage", () => {
  it("names a test for every root field, and no field that no longer exists", () => {
    expect(
      fields.filter((f) => !COVERAGE[f]),
      "root fields without an isolation entry",
    ).toEqual([]);
    expect(
      Object.keys(COVERAGE).filter((f) => !fields.includes(f)),
      "entries for fields that are gone",
    ).toEqual([]);
  });

  it.each(Object.entries(COVERAGE))("%s is exercised by the test it names", (field, { file }) => {
    const text = readFileSync(path.join(import.meta.dirname, file), "utf8");
    // secretOps/resolveOps wrap some operations: their helper names count too.
    const helpers: Record<string, string[]> = {
      createSecret: ["ops.create"],
      configureCredential: ["ops.configure"],
      updateSecret: ["ops.update"],
      rotateSecret: ["ops.rotate"],
      restoreSecretVersion: ["ops.restore"],
      deleteSecret: ["ops.remove"],
      shareSecret: ["ops.share"],
      secret: ["ops.get"],
      resolveSecrets: ["r.resolve"],
      checkSecrets: ["r.check"],
      node: ["node(id"],
      nodes: ["nodes(ids"],
    };
    const mentions = [field, ...(helpers[field] ?? [])].some((name) => text.includes(name));
    expect(mentions, `${file} never mentions ${field}`).toBe(true);
  });
});
