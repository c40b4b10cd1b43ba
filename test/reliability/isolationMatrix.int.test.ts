import { randomBytes, randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../server/src/graphql/schema.ts";
import { startOAuthServer, type OAuthServer } from "../testkit/oauthServer.ts";
import { startTestApp, type Auth, type GqlResult, type TestApp } from "../testkit/testApp.ts";

/**
 * The tenant-isolation matrix: every root query and mutation of the schema × every kind of
 * adversary. Each cell says what the adversary must see, and is run against a real victim
 * organization:
 *  - "missing":    exactly the answer for an object that does not exist (the same call with
 *                  the victim's ids and names swapped for fresh random ones), nothing of the
 *                  victim's in the answer, and no event in the victim's chain;
 *  - "forbidden":  a typed FORBIDDEN answer (the caller may see the object, not change it),
 *                  and no event in the victim's chain;
 *  - "anonymous":  exactly the answer a caller with no credentials gets;
 *  - "unaffected": a field that only acts on the caller (their session, their new
 *                  organization) or on nothing: runs, shows nothing of the victim's and
 *                  changes nothing of theirs;
 *  - allowed / n/a: by design, with the reason written next to it. Allowed reads are run
 *                  and must succeed; allowed writes are not run here (their own tests cover
 *                  them).
 * A root field without an entry fails the first test: a new query or mutation cannot ship
 * without saying how it keeps tenants apart.
 */

type Adversary =
  | "otherOrganization"
  | "otherWorkspace"
  | "viewer"
  | "memberOnOrganizationObjects"
  | "revokedToken"
  | "expiredSession"
  | "otherUsersPersonalSecret";
const ADVERSARIES: readonly Adversary[] = [
  "otherOrganization",
  "otherWorkspace",
  "viewer",
  "memberOnOrganizationObjects",
  "revokedToken",
  "expiredSession",
  "otherUsersPersonalSecret",
];

type Expectation =
  | "missing"
  /** Missing, for a caller who may see the workspace but not these objects in it. */
  | { missing: readonly TargetKey[] }
  | "forbidden"
  | "anonymous"
  | "unaffected"
  | { allowed: string }
  | { na: string };

/** The victim's objects an operation is pointed at. */
type Target = {
  /** Where createSecret / configureCredential / issueApiToken act. */
  level: "workspace" | "organization";
  orgId: string;
  orgSlug: string;
  orgName: string;
  wsId: string;
  envId: string;
  envName: string;
  secretId: string;
  secretName: string;
  tokenId: string;
  memberUserId: string;
  otherUserId: string;
  webhookId: string;
  providerId: string;
  connectionId: string;
  oauthState: string;
  invitationId: string;
  invitationToken: string;
};
type TargetKey = Exclude<keyof Target, "level">;
const WORKSPACE_KEYS: TargetKey[] = [
  "wsId",
  "envId",
  "envName",
  "secretId",
  "secretName",
  "tokenId",
  "providerId",
  "connectionId",
  "oauthState",
];
const ALL_KEYS: TargetKey[] = [
  ...WORKSPACE_KEYS,
  "orgId",
  "orgSlug",
  "orgName",
  "memberUserId",
  "otherUserId",
  "webhookId",
  "invitationId",
  "invitationToken",
];

const NAMES: readonly TargetKey[] = ["secretName", "envName", "providerId"];

type Call = { query: string; variables: Record<string, unknown> };
/**
 * - "organization": acts on the organization (members, webhooks, keys, audit);
 * - "workspace": acts on a workspace or what lives in it (environments, OAuth, tokens);
 * - "secret": acts on one secret (by id or by name);
 * - "own" / "public": acts only on the caller, or on no tenant data.
 */
type Level = "organization" | "workspace" | "secret" | "own" | "public";
type FieldCase = {
  level: Level;
  call: (t: Target) => Call;
  /** Cells that differ from the level's defaults, each with its reason. */
  cells?: Partial<Record<Adversary, Expectation>>;
  /** For allowed reads: what the caller must not see in the answer. */
  readable?: (data: Record<string, unknown>) => void;
};

const E = `__typename ... on Error { code message }`;
const mutation = (field: string, type: string, args: string, extra = "") =>
  `mutation($i: ${type}) { ${field}(${args}) { ${E} ${extra} } }`;
const input = (field: string, type: string) => mutation(field, `${type}!`, "input: $i");
const where = (t: Target) =>
  t.level === "organization"
    ? { scope: "ORGANIZATION", organizationId: t.orgId }
    : { workspaceId: t.wsId };

const FIELDS: Record<string, FieldCase> = {
  // ---- queries
  auditEvents: {
    level: "organization",
    cells: { viewer: "forbidden", memberOnOrganizationObjects: "forbidden" },
    call: (t) => ({
      query: `query($o: ID!) { auditEvents(organizationId: $o, first: 5) { edges { node { type streamId } } } }`,
      variables: { o: t.orgId },
    }),
  },
  checkSecrets: {
    level: "secret",
    call: (t) => ({
      query: `query($i: CheckSecretsInput!) { checkSecrets(input: $i) { ready found { ref } missing hints { name environments } } }`,
      variables: {
        i: { workspaceId: t.wsId, actions: [{ refs: [{ name: t.secretName, key: "K" }] }] },
      },
    }),
    cells: {
      viewer: "forbidden",
      memberOnOrganizationObjects: {
        allowed: "a workspace ADMIN may check the organization secrets its workspace can use",
      },
    },
  },
  invitation: {
    level: "public",
    call: (t) => ({
      query: `query($t: String!) { invitation(token: $t) { organizationName email role status } }`,
      variables: { t: t.invitationToken },
    }),
    // The link is the credential, with or without a session: its holder sees what it is
    // for (test/invitations.int.test.ts: an unknown link is null, like a missing object).
    cells: Object.fromEntries(
      (
        [
          "otherOrganization",
          "otherWorkspace",
          "viewer",
          "memberOnOrganizationObjects",
          "revokedToken",
          "expiredSession",
        ] as const
      ).map((a) => [a, { allowed: "the holder of an invitation link sees what it is for" }]),
    ),
    readable: (data) =>
      expect(data.invitation).toMatchObject({ organizationName: "Victim Org", status: "PENDING" }),
  },
  credentialTemplates: {
    level: "public",
    call: () => ({ query: `{ credentialTemplates { id } }`, variables: {} }),
  },
  node: {
    level: "secret",
    call: (t) => ({
      query: `query($id: ID!) { node(id: $id) { __typename id ... on Secret { name } } }`,
      variables: { id: t.secretId },
    }),
    readable: (data) => expect(data.node).toMatchObject({ __typename: "Secret" }),
  },
  nodes: {
    level: "workspace",
    call: (t) => ({
      query: `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
      variables: { ids: [t.wsId, t.envId, t.secretId, t.tokenId] },
    }),
  },
  organization: {
    level: "organization",
    call: (t) => ({
      query: `query($id: ID!) { organization(id: $id) { id name slug members { edges { node { role } } } apiTokens { edges { node { id } } } invitations { id email } } }`,
      variables: { id: t.orgId },
    }),
    // A member without organization rights reads its name and members, not its tokens or
    // pending invitations.
    readable: (data) => {
      const org = data.organization as { apiTokens: { edges: unknown[] }; invitations: unknown[] };
      expect(org.apiTokens.edges).toEqual([]);
      expect(org.invitations).toEqual([]);
    },
  },
  secret: {
    level: "secret",
    call: (t) => ({
      query: `query($id: ID!) { secret(id: $id) { id name keyNames versions { version } } }`,
      variables: { id: t.secretId },
    }),
    // Those allowed to read it see its metadata.
    readable: (data) => expect(data.secret).toMatchObject({ keyNames: ["K"] }),
  },
  verifyAuditChain: {
    level: "organization",
    cells: { viewer: "forbidden", memberOnOrganizationObjects: "forbidden" },
    call: (t) => ({
      query: `query($o: ID!) { verifyAuditChain(organizationId: $o) { ${E} ... on QueryVerifyAuditChainSuccess { data { ok eventCount } } } }`,
      variables: { o: t.orgId },
    }),
  },
  viewer: {
    level: "own",
    call: () => ({
      query: `{ viewer { kind organizations { id name workspaces { edges { node { id name secrets { edges { node { name } } } } } } } } }`,
      variables: {},
    }),
  },
  workspace: {
    level: "workspace",
    call: (t) => ({
      query: `query($id: ID!) { workspace(id: $id) { id name environments { name } secrets { edges { node { id name } } } oauthConnections { id } apiTokens { edges { node { id } } } awsExternalId } }`,
      variables: { id: t.wsId },
    }),
    // A VIEWER sees the workspace's secrets' metadata, not its tokens or AWS external id.
    readable: (data) => {
      const ws = data.workspace as { apiTokens: { edges: unknown[] }; awsExternalId: unknown };
      expect(ws.apiTokens.edges).toEqual([]);
      expect(ws.awsExternalId).toBeNull();
    },
  },

  // ---- mutations: organization
  configureSingleSignOn: {
    level: "organization",
    call: (t) => ({
      query: input("configureSingleSignOn", "ConfigureSingleSignOnInput"),
      variables: {
        i: {
          organizationId: t.orgId,
          issuer: "https://idp.example.test",
          clientId: "matrix",
          clientSecret: "matrix-secret",
          emailDomains: ["example.test"],
          defaultRole: "ADMIN",
          required: true,
        },
      },
    }),
  },
  removeSingleSignOn: {
    level: "organization",
    call: (t) => ({
      query: mutation("removeSingleSignOn", "ID!", "organizationId: $i"),
      variables: { i: t.orgId },
    }),
  },
  // Acts on no tenant's data until the identity provider answers: pointed at the victim's
  // slug (the victim has no single sign-on), it answers as for a missing organization.
  startSingleSignOn: {
    level: "public",
    call: (t) => ({
      query: mutation("startSingleSignOn", "String!", "organizationSlug: $i"),
      variables: { i: t.orgSlug },
    }),
  },
  completeSingleSignOn: {
    level: "public",
    call: () => ({
      query: mutation("completeSingleSignOn", "String!", "callbackQuery: $i"),
      variables: { i: `?code=forged&state=${randomBytes(16).toString("hex")}` },
    }),
  },
  inviteOrganizationMember: {
    level: "organization",
    call: (t) => ({
      query: input("inviteOrganizationMember", "InviteOrganizationMemberInput"),
      variables: {
        i: { organizationId: t.orgId, email: "matrix-new@example.test", role: "ADMIN" },
      },
    }),
  },
  revokeInvitation: {
    level: "organization",
    call: (t) => ({
      query: mutation("revokeInvitation", "ID!", "id: $i"),
      variables: { i: t.invitationId },
    }),
    // Invitations are listed to organization admins only: to anyone else one does not exist.
    cells: {
      viewer: { missing: ["invitationId"] },
      memberOnOrganizationObjects: { missing: ["invitationId"] },
    },
  },
  // The link is the credential: whoever holds it may join, with the invited address only.
  // Pointed at the victim's real link, for a different address: refused, nothing changes.
  acceptInvitation: {
    level: "public",
    call: (t) => ({
      query: input("acceptInvitation", "AcceptInvitationInput"),
      variables: { i: { token: t.invitationToken } },
    }),
  },
  changeOrganizationMemberRole: {
    level: "organization",
    call: (t) => ({
      query: input("changeOrganizationMemberRole", "ChangeOrganizationMemberRoleInput"),
      variables: { i: { organizationId: t.orgId, userId: t.memberUserId, role: "OWNER" } },
    }),
  },
  removeOrganizationMember: {
    level: "organization",
    call: (t) => ({
      query: input("removeOrganizationMember", "RemoveOrganizationMemberInput"),
      variables: { i: { organizationId: t.orgId, userId: t.memberUserId } },
    }),
  },
  endOrganizationMemberSessions: {
    level: "organization",
    call: (t) => ({
      query: input("endOrganizationMemberSessions", "EndOrganizationMemberSessionsInput"),
      variables: { i: { organizationId: t.orgId, userId: t.memberUserId } },
    }),
  },
  // Setting what is already set (off) changes nothing: an allowed call records no event.
  setOrganizationMfaRequirement: {
    level: "organization",
    call: (t) => ({
      query: input("setOrganizationMfaRequirement", "SetOrganizationMfaRequirementInput"),
      variables: { i: { organizationId: t.orgId, required: false } },
    }),
  },
  createWorkspace: {
    level: "organization",
    call: (t) => ({
      query: input("createWorkspace", "CreateWorkspaceInput"),
      variables: { i: { organizationId: t.orgId, name: "Matrix intruder" } },
    }),
  },
  deleteOrganization: {
    level: "organization",
    call: (t) => ({
      query: input("deleteOrganization", "DeleteOrganizationInput"),
      variables: { i: { organizationId: t.orgId, confirmSlug: t.orgSlug } },
    }),
  },
  createWebhookSubscription: {
    level: "organization",
    call: (t) => ({
      query: input("createWebhookSubscription", "CreateWebhookSubscriptionInput"),
      variables: { i: { organizationId: t.orgId, url: "https://collector.example.test/hook" } },
    }),
  },
  deleteWebhookSubscription: {
    level: "organization",
    call: (t) => ({
      query: `mutation($o: ID!, $id: ID!) { deleteWebhookSubscription(organizationId: $o, id: $id) { ${E} } }`,
      variables: { o: t.orgId, id: t.webhookId },
    }),
  },
  rotateTransitKey: {
    level: "organization",
    call: (t) => ({
      query: `mutation($o: ID!) { rotateTransitKey(organizationId: $o) { ${E} } }`,
      variables: { o: t.orgId },
    }),
  },
  rewrapSecrets: {
    level: "organization",
    call: (t) => ({
      query: `mutation($o: ID!) { rewrapSecrets(organizationId: $o) { ${E} } }`,
      variables: { o: t.orgId },
    }),
  },

  // ---- mutations: workspace
  addWorkspaceMember: {
    level: "workspace",
    call: (t) => ({
      query: input("addWorkspaceMember", "WorkspaceMemberInput"),
      variables: { i: { workspaceId: t.wsId, userId: t.otherUserId, role: "ADMIN" } },
    }),
  },
  changeWorkspaceMemberRole: {
    level: "workspace",
    call: (t) => ({
      query: input("changeWorkspaceMemberRole", "WorkspaceMemberInput"),
      variables: { i: { workspaceId: t.wsId, userId: t.memberUserId, role: "ADMIN" } },
    }),
  },
  removeWorkspaceMember: {
    level: "workspace",
    call: (t) => ({
      query: input("removeWorkspaceMember", "RemoveWorkspaceMemberInput"),
      variables: { i: { workspaceId: t.wsId, userId: t.memberUserId } },
    }),
  },
  declareEnvironment: {
    level: "workspace",
    call: (t) => ({
      query: input("declareEnvironment", "EnvironmentInput"),
      variables: { i: { workspaceId: t.wsId, name: "intruder-env" } },
    }),
  },
  deleteEnvironment: {
    level: "workspace",
    call: (t) => ({
      query: input("deleteEnvironment", "EnvironmentInput"),
      variables: { i: { workspaceId: t.wsId, name: t.envName } },
    }),
  },
  rotateAwsExternalId: {
    level: "workspace",
    call: (t) => ({
      query: `mutation($w: ID!) { rotateAwsExternalId(workspaceId: $w) { ${E} } }`,
      variables: { w: t.wsId },
    }),
  },
  issueApiToken: {
    level: "workspace",
    call: (t) => ({
      query: input("issueApiToken", "IssueApiTokenInput"),
      variables: {
        i: {
          ...(t.level === "organization" ? { organizationId: t.orgId } : { workspaceId: t.wsId }),
          name: "intruder",
          permissions: ["ADMIN"],
        },
      },
    }),
  },
  revokeApiToken: {
    level: "workspace",
    call: (t) => ({
      query: `mutation($id: ID!) { revokeApiToken(id: $id) { ${E} } }`,
      variables: { id: t.tokenId },
    }),
    // Tokens are listed to workspace admins only: to a VIEWER one does not exist.
    cells: { viewer: { missing: ["tokenId"] } },
  },
  configureOAuthProvider: {
    level: "workspace",
    call: (t) => ({
      query: input("configureOAuthProvider", "ConfigureOAuthProviderInput"),
      variables: {
        i: {
          workspaceId: t.wsId,
          providerId: "github",
          clientId: "intruder",
          clientSecret: "intruder-secret",
        },
      },
    }),
  },
  createCustomOAuthProvider: {
    level: "workspace",
    call: (t) => ({
      query: input("createCustomOAuthProvider", "CreateCustomOAuthProviderInput"),
      variables: {
        i: {
          workspaceId: t.wsId,
          name: "Intruder",
          tokenEndpoint: "https://idp.example.test/token",
          grantTypes: ["client_credentials"],
          clientId: "intruder",
          clientSecret: "intruder-secret",
        },
      },
    }),
  },
  updateCustomOAuthProvider: {
    level: "workspace",
    call: (t) => ({
      query: input("updateCustomOAuthProvider", "UpdateCustomOAuthProviderInput"),
      variables: { i: { workspaceId: t.wsId, providerId: t.providerId, clientId: "intruder" } },
    }),
  },
  deleteOAuthProvider: {
    level: "workspace",
    call: (t) => ({
      query: `mutation($w: ID!, $p: String!) { deleteOAuthProvider(workspaceId: $w, providerId: $p) { ${E} } }`,
      variables: { w: t.wsId, p: t.providerId },
    }),
  },
  startOAuthAuthorization: {
    level: "workspace",
    call: (t) => ({
      query: input("startOAuthAuthorization", "OAuthConnectInput"),
      variables: { i: { workspaceId: t.wsId, providerId: t.providerId } },
    }),
  },
  connectOAuthClientCredentials: {
    level: "workspace",
    call: (t) => ({
      query: input("connectOAuthClientCredentials", "OAuthConnectInput"),
      variables: { i: { workspaceId: t.wsId, providerId: t.providerId } },
    }),
  },
  disconnectOAuth: {
    level: "workspace",
    call: (t) => ({
      query: `mutation($w: ID!, $c: ID!) { disconnectOAuth(workspaceId: $w, connectionId: $c) { ${E} } }`,
      variables: { w: t.wsId, c: t.connectionId },
    }),
  },
  completeOAuthAuthorization: {
    level: "workspace",
    call: (t) => ({
      query: `mutation($q: String!) { completeOAuthAuthorization(callbackQuery: $q) { ${E} } }`,
      variables: { q: `?code=forged-code&state=${t.oauthState}` },
    }),
    // A state is bound to the session that started the flow: anyone else's is unknown.
    cells: { viewer: { missing: ["oauthState"] } },
  },

  // ---- mutations: secrets
  createSecret: {
    level: "workspace",
    call: (t) => ({
      query: input("createSecret", "CreateSecretInput"),
      variables: {
        i: {
          ...where(t),
          name: "intruder-secret",
          values: [{ key: "K", value: "intruder-value" }],
        },
      },
    }),
  },
  configureCredential: {
    level: "workspace",
    call: (t) => ({
      query: input("configureCredential", "ConfigureCredentialInput"),
      variables: {
        i: {
          ...where(t),
          templateId: "slack",
          values: [{ key: "SLACK_BOT_TOKEN", value: "xoxb-intruder" }],
        },
      },
    }),
  },
  updateSecret: {
    level: "secret",
    call: (t) => ({
      query: input("updateSecret", "UpdateSecretInput"),
      variables: { i: { id: t.secretId, set: [{ key: "K2", value: "intruder-value" }] } },
    }),
  },
  rotateSecret: {
    level: "secret",
    call: (t) => ({
      query: input("rotateSecret", "RotateSecretInput"),
      variables: { i: { id: t.secretId, values: [{ key: "K", value: "intruder-value" }] } },
    }),
  },
  restoreSecretVersion: {
    level: "secret",
    call: (t) => ({
      query: input("restoreSecretVersion", "RestoreSecretVersionInput"),
      variables: { i: { id: t.secretId, version: 1 } },
    }),
  },
  deleteSecret: {
    level: "secret",
    call: (t) => ({
      query: `mutation($id: ID!) { deleteSecret(id: $id) { ${E} } }`,
      variables: { id: t.secretId },
    }),
  },
  shareSecret: {
    level: "secret",
    call: (t) => ({
      query: `mutation($id: ID!) { shareSecret(id: $id) { ${E} } }`,
      variables: { id: t.secretId },
    }),
  },
  resolveSecrets: {
    level: "secret",
    call: (t) => ({
      query: input(
        "resolveSecrets",
        "ResolveSecretsInput",
        // (the success branch is selected so that a leak would show)
      ).replace(
        `${E} `,
        `${E} ... on CredentialNotFoundError { missing hints { name environments } } ... on MutationResolveSecretsSuccess { data { values { ref value } } } `,
      ),
      variables: { i: { workspaceId: t.wsId, refs: [{ name: t.secretName, key: "K" }] } },
    }),
    cells: {
      viewer: "forbidden",
      memberOnOrganizationObjects: {
        allowed: "a workspace ADMIN resolves the organization secrets its workspace can use",
      },
    },
  },

  // ---- the caller's own
  createOrganization: {
    level: "own",
    call: () => ({
      query: input("createOrganization", "CreateOrganizationInput"),
      variables: { i: { name: `Own ${randomBytes(3).toString("hex")}` } },
    }),
  },
  changePassword: {
    level: "own",
    call: () => ({
      query: input("changePassword", "ChangePasswordInput"),
      variables: { i: { currentPassword: "not-the-password", newPassword: "a-new-password-1" } },
    }),
  },
  // Two-factor sign-in acts on the caller's own account only (test/mfa.int.test.ts).
  beginTotpEnrollment: {
    level: "own",
    call: () => ({
      query: input("beginTotpEnrollment", "BeginTotpEnrollmentInput"),
      variables: { i: { password: "not-the-password" } },
    }),
  },
  confirmTotpEnrollment: {
    level: "own",
    call: () => ({
      query: input("confirmTotpEnrollment", "TotpCodeInput"),
      variables: { i: { code: "000000" } },
    }),
  },
  regenerateRecoveryCodes: {
    level: "own",
    call: () => ({
      query: input("regenerateRecoveryCodes", "TotpCodeInput"),
      variables: { i: { code: "000000" } },
    }),
  },
  disableTotp: {
    level: "own",
    call: () => ({
      query: input("disableTotp", "DisableTotpInput"),
      variables: { i: { password: "not-the-password", code: "000000" } },
    }),
  },
  // Acts on the caller's own sessions only: another user's session id answers as a
  // missing one (test/sessions.int.test.ts), so here it is pointed at none.
  revokeSession: {
    level: "own",
    call: () => ({
      query: mutation(
        "revokeSession",
        "ID!",
        "id: $i",
        "... on MutationRevokeSessionSuccess { data { id } }",
      ),
      variables: { i: encodeGlobalID("Session", randomUUID()) },
    }),
  },
  signIn: {
    level: "public",
    call: () => ({
      query: input("signIn", "SignInInput"),
      variables: { i: { email: "matrix-owner@example.test", password: "not-the-password" } },
    }),
  },
  // Last: it ends the adversary's session.
  signOut: {
    level: "own",
    call: () => ({ query: `mutation { signOut }`, variables: {} }),
  },
};

const isMutation = (call: Call) => call.query.trimStart().startsWith("mutation");

/** The expectation for a cell: the field's override, else its level's default. */
function expectation(field: FieldCase, adversary: Adversary): Expectation {
  const override = field.cells?.[adversary];
  if (override) return override;
  const isQuery = !isMutation(field.call(targets.otherOrganization));
  if (adversary === "revokedToken" || adversary === "expiredSession") return "anonymous";
  if (field.level === "own" || field.level === "public")
    return adversary === "otherUsersPersonalSecret"
      ? { na: "acts on no other user's object" }
      : "unaffected";
  switch (adversary) {
    case "otherOrganization":
      return "missing";
    case "otherWorkspace":
      return field.level === "organization"
        ? { na: "organization-level: a member of another workspace is the next column's case" }
        : "missing";
    case "viewer":
      return isQuery ? { allowed: "a VIEWER reads metadata" } : "forbidden";
    case "memberOnOrganizationObjects":
      if (field.level === "workspace")
        return { na: "workspace-level: this member is the workspace's ADMIN" };
      return isQuery ? { allowed: "members read the organization's metadata" } : "forbidden";
    case "otherUsersPersonalSecret":
      return field.level === "secret" ? "missing" : { na: "acts on no personal secret" };
  }
}

// ----------------------------------------------------------------- the world

let t: TestApp;
let idp: OAuthServer;
let targets: Record<Adversary, Target>;
let callers: Record<Adversary, [string, Auth][]>;
let victimOrgUuid: string;

const uuidOf = (gid: string) => Buffer.from(gid, "base64").toString().split(":")[1]!;
/**
 * Events in the victim's chain. A failed resolution by someone inside the organization is
 * audited there by design (SecretsResolutionFailed), so for insiders those are not counted;
 * outsiders may not add anything at all.
 */
const INSIDERS: readonly Adversary[] = [
  "otherWorkspace",
  "viewer",
  "memberOnOrganizationObjects",
  "otherUsersPersonalSecret",
];
const victimEvents = async (adversary: Adversary) =>
  (
    await t.database.admin<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE organization_id = $1 AND NOT ($2 AND type = 'SecretsResolutionFailed')`,
      [victimOrgUuid, INSIDERS.includes(adversary)],
    )
  )[0]!.n;

beforeAll(async () => {
  idp = await startOAuthServer({ redirectUri: "http://coffer.test/oauth/callback" });
  t = await startTestApp({
    rateLimits: { signInsPerMinute: 10_000, resolutionsPerMinute: 10_000 },
  });
  const v = await t.createTenant("Victim Org");
  const x = await t.createTenant("Intruder Org");
  const gql = async (
    field: string,
    query: string,
    variables: Record<string, unknown>,
    auth: Auth,
  ) => t.ok(field, query, variables, auth);

  // Victim organization: two workspaces, an extra environment, secrets of every scope,
  // tokens, a webhook, an OAuth provider with a connection and a pending authorization.
  const ws2 = await gql(
    "createWorkspace",
    `mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { __typename ... on MutationCreateWorkspaceSuccess { data { id } } } }`,
    { i: { organizationId: v.organizationId, name: "Second" } },
    v.session,
  );
  const env = await gql(
    "declareEnvironment",
    `mutation($i: EnvironmentInput!) { declareEnvironment(input: $i) { __typename ... on MutationDeclareEnvironmentSuccess { data { id name } } } }`,
    { i: { workspaceId: v.workspaceId, name: "staging" } },
    v.session,
  );
  const personalOwner = await t.addMember(v, "MEMBER", "EDITOR");
  const viewer = await t.addMember(v, "MEMBER", "VIEWER");
  const workspaceAdmin = await t.addMember(v, "MEMBER", "ADMIN");
  const expiring = await t.addMember(v, "ADMIN");
  const otherWorkspaceAdmin = await t.addMember(v, "MEMBER");
  await gql(
    "addWorkspaceMember",
    `mutation($i: WorkspaceMemberInput!) { addWorkspaceMember(input: $i) { __typename } }`,
    { i: { workspaceId: ws2.id, userId: otherWorkspaceAdmin.userId, role: "ADMIN" } },
    v.session,
  );
  const createSecret = (i: Record<string, unknown>, auth: Auth) =>
    gql(
      "createSecret",
      `mutation($i: CreateSecretInput!) { createSecret(input: $i) { __typename ... on MutationCreateSecretSuccess { data { secret { id name } } } } }`,
      { i: { ...i, values: [{ key: "K", value: `value-${randomUUID()}` }] } },
      auth,
    ).then((d: { secret: { id: string; name: string } }) => d.secret);
  const wsSecret = await createSecret(
    { workspaceId: v.workspaceId, name: "matrix-ws", environment: "staging" },
    v.session,
  );
  const orgSecret = await createSecret(
    { scope: "ORGANIZATION", organizationId: v.organizationId, name: "matrix-org" },
    v.session,
  );
  const personalSecret = await createSecret(
    { scope: "PERSONAL", workspaceId: v.workspaceId, name: "matrix-personal" },
    personalOwner.session,
  );
  const wsToken = await t.issueToken(v.session, { workspaceId: v.workspaceId }, ["ADMIN"]);
  const orgToken = await t.issueToken(v.session, { organizationId: v.organizationId }, ["ADMIN"]);
  const readToken = await t.issueToken(v.session, { workspaceId: v.workspaceId }, ["SECRETS_READ"]);
  const revoked = await t.issueToken(v.session, { organizationId: v.organizationId }, ["ADMIN"]);
  await gql(
    "revokeApiToken",
    `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`,
    { id: revoked.apiToken.id },
    v.session,
  );
  const ws2Token = await t.issueToken(v.session, { workspaceId: ws2.id }, ["ADMIN"]);
  const webhook = await gql(
    "createWebhookSubscription",
    `mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { __typename ... on MutationCreateWebhookSubscriptionSuccess { data { subscription { id } } } } }`,
    { i: { organizationId: v.organizationId, url: "https://siem.example.test/coffer" } },
    v.session,
  );
  const provider = await gql(
    "createCustomOAuthProvider",
    `mutation($i: CreateCustomOAuthProviderInput!) { createCustomOAuthProvider(input: $i) { __typename ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } } } }`,
    {
      i: {
        workspaceId: v.workspaceId,
        name: "Matrix API",
        authorizationEndpoint: idp.authorizationEndpoint,
        tokenEndpoint: idp.tokenEndpoint,
        defaultScopes: ["openid", "read"],
        grantTypes: ["authorization_code", "client_credentials"],
        clientId: idp.client.clientId,
        clientSecret: idp.client.clientSecret,
      },
    },
    v.session,
  );
  const connection = await gql(
    "connectOAuthClientCredentials",
    `mutation($i: OAuthConnectInput!) { connectOAuthClientCredentials(input: $i) { __typename ... on MutationConnectOAuthClientCredentialsSuccess { data { id } } } }`,
    { i: { workspaceId: v.workspaceId, providerId: provider.providerId, scopes: ["read"] } },
    v.session,
  );
  const started = await gql(
    "startOAuthAuthorization",
    `mutation($i: OAuthConnectInput!) { startOAuthAuthorization(input: $i) { __typename ... on MutationStartOAuthAuthorizationSuccess { data { authorizationUrl } } } }`,
    { i: { workspaceId: v.workspaceId, providerId: provider.providerId } },
    v.session,
  );
  const invited = await gql(
    "inviteOrganizationMember",
    `mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { __typename ... on MutationInviteOrganizationMemberSuccess { data { url invitation { id } } } } }`,
    {
      i: { organizationId: v.organizationId, email: "matrix-pending@example.test", role: "ADMIN" },
    },
    v.session,
  );
  const slug = (
    await t.gql<{ organization: { slug: string } }>(
      `query($id: ID!) { organization(id: $id) { slug } }`,
      { id: v.organizationId },
      v.session,
    )
  ).data.organization.slug;

  const workspaceTarget: Target = {
    level: "workspace",
    orgId: v.organizationId,
    orgSlug: slug,
    orgName: "Victim Org",
    wsId: v.workspaceId,
    envId: env.id,
    envName: "staging",
    secretId: wsSecret.id,
    secretName: wsSecret.name,
    tokenId: wsToken.apiToken.id,
    memberUserId: personalOwner.userId,
    otherUserId: otherWorkspaceAdmin.userId,
    webhookId: webhook.subscription.id,
    providerId: provider.providerId,
    connectionId: connection.id,
    oauthState: new URL(started.authorizationUrl).searchParams.get("state")!,
    invitationId: invited.invitation.id,
    invitationToken: invited.url.split("#")[1]!,
  };
  targets = {
    otherOrganization: workspaceTarget,
    otherWorkspace: workspaceTarget,
    viewer: workspaceTarget,
    memberOnOrganizationObjects: {
      ...workspaceTarget,
      level: "organization",
      secretId: orgSecret.id,
      secretName: orgSecret.name,
      tokenId: orgToken.apiToken.id,
    },
    revokedToken: workspaceTarget,
    expiredSession: workspaceTarget,
    otherUsersPersonalSecret: {
      ...workspaceTarget,
      secretId: personalSecret.id,
      secretName: personalSecret.name,
    },
  };
  const xToken = await t.issueToken(x.session, { organizationId: x.organizationId }, ["ADMIN"]);
  const expiredSession = expiring.session;
  await t.database.admin(
    `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
    [expiring.userId],
  );
  callers = {
    otherOrganization: [
      ["another organization's OWNER", x.session],
      ["another organization's ADMIN token", { token: xToken.token }],
    ],
    otherWorkspace: [
      ["an ADMIN of another workspace", otherWorkspaceAdmin.session],
      ["another workspace's ADMIN token", { token: ws2Token.token }],
    ],
    viewer: [
      ["a workspace VIEWER", viewer.session],
      ["a workspace token with SECRETS_READ only", { token: readToken.token }],
    ],
    memberOnOrganizationObjects: [
      ["an organization MEMBER who is workspace ADMIN", workspaceAdmin.session],
      ["a workspace ADMIN token", { token: wsToken.token }],
    ],
    revokedToken: [["a revoked organization ADMIN token", { token: revoked.token }]],
    expiredSession: [["an organization ADMIN's expired session", expiredSession]],
    otherUsersPersonalSecret: [
      ["the organization's OWNER", v.session],
      ["a workspace ADMIN", workspaceAdmin.session],
      ["an organization ADMIN token", { token: orgToken.token }],
    ],
  };
  victimOrgUuid = uuidOf(v.organizationId);
}, 120_000);

afterAll(async () => {
  await t.close();
  await idp.close();
});

// ----------------------------------------------------------------- checks

/** The same target with the keys an adversary aims at replaced by fresh, unused values. */
function missingTwin(target: Target, keys: readonly TargetKey[]): Target {
  const twin = { ...target };
  const fresh: Record<TargetKey, () => string> = {
    orgId: () => encodeGlobalID("Organization", randomUUID()),
    orgSlug: () => `missing-${randomBytes(4).toString("hex")}`,
    orgName: () => `Missing ${randomBytes(4).toString("hex")}`,
    wsId: () => encodeGlobalID("Workspace", randomUUID()),
    envId: () => encodeGlobalID("Environment", randomUUID()),
    envName: () => `missing-${randomBytes(4).toString("hex")}`,
    secretId: () => encodeGlobalID("Secret", randomUUID()),
    secretName: () => `missing-${randomBytes(4).toString("hex")}`,
    tokenId: () => encodeGlobalID("ApiToken", randomUUID()),
    memberUserId: () => randomUUID(),
    otherUserId: () => randomUUID(),
    webhookId: () => randomUUID(),
    providerId: () => `custom_missing_${randomBytes(4).toString("hex")}`,
    connectionId: () => randomUUID(),
    oauthState: () => randomBytes(32).toString("base64url"),
    invitationId: () => encodeGlobalID("Invitation", randomUUID()),
    invitationToken: () => `coffer_inv_${randomBytes(32).toString("base64url")}`,
  };
  for (const key of keys) twin[key] = fresh[key]();
  return twin;
}

const aimedAt: Record<Adversary, readonly TargetKey[]> = {
  otherOrganization: ALL_KEYS,
  otherWorkspace: WORKSPACE_KEYS,
  viewer: [],
  memberOnOrganizationObjects: [],
  revokedToken: ALL_KEYS,
  expiredSession: ALL_KEYS,
  otherUsersPersonalSecret: ["secretId", "secretName"],
};

/** The answer with every aimed-at value replaced by its key's name: comparable across targets. */
function normalized(result: GqlResult, target: Target, keys: readonly TargetKey[]) {
  let text = JSON.stringify({ data: result.data ?? null, errors: result.errors ?? null });
  for (const key of [...keys].sort((a, b) => target[b].length - target[a].length))
    text = text.split(target[key]).join(`<${key}>`);
  return JSON.parse(text);
}

function isForbidden(result: GqlResult, field: string) {
  const value = result.data?.[field];
  return (
    value?.__typename === "ForbiddenError" ||
    (result.errors?.length === 1 && result.errors[0]!.extensions?.code === "FORBIDDEN")
  );
}

const fieldNames = [
  ...Object.keys(schema.getQueryType()!.getFields()),
  ...Object.keys(schema.getMutationType()!.getFields()),
];

describe("tenant-isolation matrix", () => {
  it("has a case for every root query and mutation, and none for fields that are gone", () => {
    expect(fieldNames.filter((f) => !FIELDS[f]).sort(), "fields without a matrix entry").toEqual(
      [],
    );
    expect(Object.keys(FIELDS).filter((f) => !fieldNames.includes(f))).toEqual([]);
  });

  const cells = Object.entries(FIELDS).flatMap(([field, fieldCase]) =>
    ADVERSARIES.map((adversary) => ({ field, fieldCase, adversary })),
  );

  it.each(cells)("$field × $adversary", async ({ field, fieldCase, adversary }) => {
    const cell = expectation(fieldCase, adversary);
    if (typeof cell === "object" && "na" in cell) return;
    const target = targets[adversary];
    const call = fieldCase.call(target);
    const keys = typeof cell === "object" && "missing" in cell ? cell.missing : aimedAt[adversary];
    for (const [who, auth] of callers[adversary]) {
      const label = `${field} by ${who}`;
      if (typeof cell === "object" && "allowed" in cell) {
        if (!isMutation(call)) {
          const result = await t.gql(call.query, call.variables, auth);
          expect(result.errors, `${label}: ${result.raw}`).toBeUndefined();
          expect(result.data[field]?.__typename ?? "", `${label}: ${result.raw}`).not.toMatch(
            /Error$/,
          );
          fieldCase.readable?.(result.data);
        }
        continue;
      }
      const before = await victimEvents(adversary);
      const result = await t.gql(call.query, call.variables, auth);
      expect(result.status, `${label}: ${result.raw}`).toBe(200);
      if (cell === "missing" || (typeof cell === "object" && "missing" in cell)) {
        const twin = missingTwin(target, keys);
        const onMissing = await t.gql(
          fieldCase.call(twin).query,
          fieldCase.call(twin).variables,
          auth,
        );
        expect(normalized(result, target, keys), label).toEqual(normalized(onMissing, twin, keys));
      } else if (cell === "anonymous") {
        const anonymous = await t.gql(call.query, call.variables);
        expect(normalized(result, target, keys), label).toEqual(
          normalized(anonymous, target, keys),
        );
      } else if (cell === "forbidden") {
        expect(isForbidden(result, field), `${label}: ${result.raw}`).toBe(true);
      }
      // Ids and the organization's identity never appear; names may (the caller typed them,
      // and answers such as credential_not_found repeat them) and are compared above.
      for (const key of keys.filter((k) => !NAMES.includes(k)))
        expect(result.raw, `${label} shows the victim's ${key}`).not.toContain(target[key]);
      expect(await victimEvents(adversary), `${label} changed the victim's organization`).toBe(
        before,
      );
    }
  });
});

// ----------------------------------------------------------------- garbage ids

/**
 * Ids no client should send — not base64, an unknown type, another type's id, a local part
 * that is not a UUID, a bare UUID that is not one — and that each root field must answer
 * exactly as it answers an id that does not exist: never an internal error, never a stack
 * trace in the log.
 */
const GARBAGE: Record<string, (typename: string) => string> = {
  "not base64": () => "%%% not base64 %%%",
  "an unknown type": () => encodeGlobalID("NoSuchType", randomUUID()),
  "another type's id": (typename) =>
    encodeGlobalID(typename === "Secret" ? "Workspace" : "Secret", randomUUID()),
  "a local part that is not a UUID": (typename) => encodeGlobalID(typename, "1 OR 1=1"),
};
const GLOBAL_IDS: Partial<Record<TargetKey, string>> = {
  orgId: "Organization",
  wsId: "Workspace",
  envId: "Environment",
  secretId: "Secret",
  tokenId: "ApiToken",
};
const BARE_UUIDS: readonly TargetKey[] = [
  "memberUserId",
  "otherUserId",
  "webhookId",
  "connectionId",
];

describe("garbage ids", () => {
  const cases = Object.entries(FIELDS)
    // Decided without the world (built in beforeAll): the fields whose other-organization
    // cell is "missing" — the level's default for every field that acts on a tenant's object.
    .filter(
      ([, fieldCase]) =>
        fieldCase.level !== "own" &&
        fieldCase.level !== "public" &&
        (fieldCase.cells?.otherOrganization ?? "missing") === "missing",
    )
    .flatMap(([field, fieldCase]) =>
      Object.keys(GARBAGE).map((form) => ({ field, fieldCase, form })),
    );

  it.each(cases)(
    "$field given $form answers as for a missing id",
    async ({ field, fieldCase, form }) => {
      const target = targets.otherOrganization;
      const keys = [...Object.keys(GLOBAL_IDS), ...BARE_UUIDS] as TargetKey[];
      const garbage = { ...target };
      for (const [key, typename] of Object.entries(GLOBAL_IDS))
        garbage[key as TargetKey] = GARBAGE[form]!(typename);
      for (const key of BARE_UUIDS)
        garbage[key] = form === "not base64" ? "not-a-uuid" : "1 OR 1=1";
      const twin = missingTwin(target, keys);
      const logsBefore = t.logs.length;
      for (const [who, auth] of callers.otherOrganization) {
        const label = `${field} by ${who} with ${form}`;
        const result = await t.gql(
          fieldCase.call(garbage).query,
          fieldCase.call(garbage).variables,
          auth,
        );
        expect(result.status, `${label}: ${result.raw}`).toBe(200);
        expect(result.raw, label).not.toMatch(
          /INTERNAL_SERVER_ERROR|Unexpected error|\bat .*\.ts:\d+/,
        );
        const onMissing = await t.gql(
          fieldCase.call(twin).query,
          fieldCase.call(twin).variables,
          auth,
        );
        expect(normalized(result, garbage, keys), label).toEqual(normalized(onMissing, twin, keys));
      }
      const logged = t.logs.slice(logsBefore).join("");
      expect(logged).not.toMatch(/"level":(50|60)|\bat .*\.ts:\d+/);
    },
  );
});
