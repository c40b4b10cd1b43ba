/**
 * Every GraphQL operation the console sends, with hand-written result and variable types.
 * The browser test validates each document against the committed `schema.graphql`, so a
 * field that is renamed or removed on the server fails CI rather than a page in production.
 */
import { gql, type Result } from "./document.ts";

export type OrgRole = "OWNER" | "ADMIN" | "MEMBER";
export type SecretScope = "ORGANIZATION" | "WORKSPACE" | "PERSONAL";
export type SecretType = "CUSTOM" | "SSH_KEY" | "MTLS" | "CA_CERT";
export type Permission =
  "ADMIN" | "AUDIT_READ" | "OAUTH_MANAGE" | "SECRETS_READ" | "SECRETS_RESOLVE" | "SECRETS_WRITE";

export type User = { id: string; email: string; name: string };
export type Connection<T> = { edges: { node: T }[] };
export type SecretValueInput = { key: string; value: string };

const ERROR_FIELDS = `
  __typename
  ... on Error { code message }
  ... on ValidationError { issues { path message } }
`;

// ---------------------------------------------------------------- session and navigation

export type ViewerOrganization = {
  id: string;
  name: string;
  slug: string;
  viewerRole: OrgRole | null;
  workspaces: Connection<{ id: string; name: string; slug: string }>;
};
export type ViewerData = {
  viewer: { kind: string; user: User | null; organizations: ViewerOrganization[] };
};
export const VIEWER = gql<ViewerData>(`
  query Viewer {
    viewer {
      kind
      user { id email name }
      organizations {
        id name slug viewerRole
        workspaces(first: 50) { edges { node { id name slug } } }
      }
    }
  }
`);

export const SIGN_IN = gql<
  { signIn: { __typename: string; message?: string } },
  { input: { email: string; password: string; mfaCode?: string } }
>(`
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      __typename
      ... on Error { message }
    }
  }
`);

export const SIGN_OUT = gql<{ signOut: boolean }>(`
  mutation SignOut { signOut }
`);

// ---------------------------------------------------------------- workspaces and environments

export type Environment = { id: string; name: string; createdAt: string };
export type WorkspaceSummary = {
  id: string;
  name: string;
  slug: string;
  viewerPermissions: Permission[];
  organization: { id: string; name: string; viewerRole: OrgRole | null };
  environments: Environment[];
};
export const WORKSPACE = gql<{ workspace: WorkspaceSummary | null }, { id: string }>(`
  query Workspace($id: ID!) {
    workspace(id: $id) {
      id name slug viewerPermissions
      organization { id name viewerRole }
      environments { id name createdAt }
    }
  }
`);

type EnvironmentVariables = { input: { workspaceId: string; name: string } };
export const DECLARE_ENVIRONMENT = gql<
  { declareEnvironment: Result<Environment> },
  EnvironmentVariables
>(`
  mutation DeclareEnvironment($input: EnvironmentInput!) {
    declareEnvironment(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationDeclareEnvironmentSuccess { data { id name createdAt } }
    }
  }
`);
export const DELETE_ENVIRONMENT = gql<
  { deleteEnvironment: Result<{ id: string }> },
  EnvironmentVariables
>(`
  mutation DeleteEnvironment($input: EnvironmentInput!) {
    deleteEnvironment(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationDeleteEnvironmentSuccess { data { id } }
    }
  }
`);

// ---------------------------------------------------------------- secrets

export type TemplateKey = { name: string; description: string };
export type CredentialTemplate = {
  id: string;
  secretName: string;
  title: string;
  description: string;
  requiredKeys: TemplateKey[];
  optionalKeys: TemplateKey[];
  atLeastOneOf: string[];
  deprecatedKeys: string[];
};
const TEMPLATE_FIELDS = `
  id secretName title description
  requiredKeys { name description }
  optionalKeys { name description }
  atLeastOneOf deprecatedKeys
`;
export const CREDENTIAL_TEMPLATES = gql<{ credentialTemplates: CredentialTemplate[] }>(`
  query CredentialTemplates {
    credentialTemplates { ${TEMPLATE_FIELDS} }
  }
`);

export type SecretSummary = {
  id: string;
  name: string;
  scope: SecretScope;
  environment: string;
  type: SecretType;
  keyNames: string[];
  currentVersion: number;
  lastUsedAt: string | null;
  updatedAt: string;
  description: string | null;
  template: { id: string; title: string } | null;
  owner: User | null;
};
const SECRET_FIELDS = `
  id name scope environment type keyNames currentVersion lastUsedAt updatedAt description
  template { id title }
  owner { id email name }
`;
export type SecretFilter = {
  environment?: string;
  scopes?: SecretScope[];
  search?: string;
  type?: SecretType;
};
export type Page<T> = Connection<T> & {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};
/** Page sizes are literals, and the server's cost limit (30,000) multiplies by them. */
export const WORKSPACE_SECRETS = gql<
  { workspace: { id: string; secrets: Page<SecretSummary> } | null },
  { id: string; filter: SecretFilter; after: string | null }
>(`
  query WorkspaceSecrets($id: ID!, $filter: SecretFilter, $after: String) {
    workspace(id: $id) {
      id
      secrets(first: 25, after: $after, filter: $filter) {
        edges { node { ${SECRET_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const ORGANIZATION_SECRETS = gql<
  { organization: { id: string; secrets: Page<SecretSummary> } | null },
  { id: string; filter: SecretFilter; after: string | null }
>(`
  query OrganizationSecrets($id: ID!, $filter: SecretFilter, $after: String) {
    organization(id: $id) {
      id
      secrets(first: 25, after: $after, filter: $filter) {
        edges { node { ${SECRET_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

/** Environment names declared anywhere in the organization (suggestions for its secrets). */
export const ORGANIZATION_ENVIRONMENTS = gql<
  {
    organization: {
      id: string;
      workspaces: Connection<{ environments: { name: string }[] }>;
    } | null;
  },
  { id: string }
>(`
  query OrganizationEnvironments($id: ID!) {
    organization(id: $id) {
      id
      workspaces(first: 50) { edges { node { environments { name } } } }
    }
  }
`);

export type SecretVersion = {
  version: number;
  keyNames: string[];
  origin: string;
  restoredFrom: number | null;
  createdBy: string;
  createdAt: string;
  pruned: boolean;
  transitKeyVersion: number | null;
};
export type SecretUsage = {
  usedAt: string;
  actorKind: string;
  actorId: string;
  actionRef: string | null;
  workflowId: string | null;
  runId: string | null;
  environment: string;
  version: number;
  keyNames: string[];
  onBehalfOf: User | null;
  auditPosition: string;
};
export type SecretDetail = SecretSummary & {
  createdAt: string;
  expressions: string[];
  versions: SecretVersion[];
  recentUsage: Connection<SecretUsage>;
  template: CredentialTemplate | null;
  workspace: { id: string; name: string } | null;
  organization: { id: string; name: string; viewerRole: OrgRole | null };
};
export const SECRET = gql<{ secret: SecretDetail | null }, { id: string }>(`
  query Secret($id: ID!) {
    secret(id: $id) {
      ${SECRET_FIELDS}
      createdAt expressions
      template { ${TEMPLATE_FIELDS} }
      workspace { id name }
      organization { id name viewerRole }
      versions {
        version keyNames origin restoredFrom createdBy createdAt pruned transitKeyVersion
      }
      recentUsage(first: 25) {
        edges {
          node {
            usedAt actorKind actorId actionRef workflowId runId environment version keyNames
            auditPosition
            onBehalfOf { id email name }
          }
        }
      }
    }
  }
`);

/** Emails for the user ids that appear in versions, usage and the audit log. */
export type MembersData = {
  organization: { id: string; members: Connection<{ role: OrgRole; user: User }> } | null;
};
export const MEMBERS = gql<MembersData, { id: string }>(`
  query Members($id: ID!) {
    organization(id: $id) {
      id
      members(first: 50) { edges { node { role user { id email name } } } }
    }
  }
`);

/** Names of the API tokens that appear as actors (by their global ids). */
export type TokenNamesData = {
  nodes: ({ __typename: string; id?: string; name?: string; prefix?: string } | null)[];
};
export const TOKEN_NAMES = gql<TokenNamesData, { ids: string[] }>(`
  query TokenNames($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename
      ... on ApiToken { id name prefix }
    }
  }
`);

export type SecretPayload = { secret: { id: string; currentVersion: number }; warnings: string[] };
const SECRET_PAYLOAD = `data { warnings secret { id currentVersion } }`;

export type CreateSecretInput = {
  name: string;
  environment: string;
  scope: SecretScope;
  type: SecretType;
  values: SecretValueInput[];
  description?: string;
  workspaceId?: string;
  organizationId?: string;
};
export const CREATE_SECRET = gql<
  { createSecret: Result<SecretPayload> },
  { input: CreateSecretInput }
>(`
  mutation CreateSecret($input: CreateSecretInput!) {
    createSecret(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationCreateSecretSuccess { ${SECRET_PAYLOAD} }
    }
  }
`);

export type ConfigureCredentialInput = {
  templateId: string;
  environment: string;
  scope: SecretScope;
  values: SecretValueInput[];
  /** 0: only create; N: only replace version N. */
  expectedVersion?: number;
  workspaceId?: string;
  organizationId?: string;
};
export const CONFIGURE_CREDENTIAL = gql<
  { configureCredential: Result<SecretPayload> },
  { input: ConfigureCredentialInput }
>(`
  mutation ConfigureCredential($input: ConfigureCredentialInput!) {
    configureCredential(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationConfigureCredentialSuccess { ${SECRET_PAYLOAD} }
    }
  }
`);

export const UPDATE_SECRET = gql<
  { updateSecret: Result<SecretPayload> },
  {
    input: { id: string; expectedVersion: number; set: SecretValueInput[]; remove: string[] };
  }
>(`
  mutation UpdateSecret($input: UpdateSecretInput!) {
    updateSecret(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationUpdateSecretSuccess { ${SECRET_PAYLOAD} }
    }
  }
`);

export const ROTATE_SECRET = gql<
  { rotateSecret: Result<SecretPayload> },
  { input: { id: string; expectedVersion: number; values: SecretValueInput[] } }
>(`
  mutation RotateSecret($input: RotateSecretInput!) {
    rotateSecret(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationRotateSecretSuccess { ${SECRET_PAYLOAD} }
    }
  }
`);

export const RESTORE_SECRET_VERSION = gql<
  { restoreSecretVersion: Result<{ id: string; currentVersion: number }> },
  { input: { id: string; version: number; expectedVersion: number } }
>(`
  mutation RestoreSecretVersion($input: RestoreSecretVersionInput!) {
    restoreSecretVersion(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationRestoreSecretVersionSuccess { data { id currentVersion } }
    }
  }
`);

export const DELETE_SECRET = gql<
  { deleteSecret: Result<{ id: string; name: string }> },
  { id: string }
>(`
  mutation DeleteSecret($id: ID!) {
    deleteSecret(id: $id) {
      ${ERROR_FIELDS}
      ... on MutationDeleteSecretSuccess { data { id name } }
    }
  }
`);

export const SHARE_SECRET = gql<
  { shareSecret: Result<{ id: string; scope: SecretScope }> },
  { id: string }
>(`
  mutation ShareSecret($id: ID!) {
    shareSecret(id: $id) {
      ${ERROR_FIELDS}
      ... on MutationShareSecretSuccess { data { id scope } }
    }
  }
`);

// ---------------------------------------------------------------- OAuth

export type OAuthProvider = {
  providerId: string;
  name: string;
  builtin: boolean;
  configured: boolean;
  authorizationEndpoint: string | null;
  tokenEndpoint: string;
  defaultScopes: string[];
  grantTypes: string[];
  clientId: string | null;
  userTokenExpression: string;
  serviceTokenExpression: string;
};
export type OAuthConnection = {
  id: string;
  providerId: string;
  environment: string;
  kind: string;
  status: string;
  needsReconnection: boolean;
  expiresAt: string | null;
  scopes: string[];
  connectedAt: string;
  refreshedAt: string | null;
  lastUsedAt: string | null;
  expression: string;
};
export const OAUTH = gql<
  {
    workspace: {
      id: string;
      viewerPermissions: Permission[];
      environments: { name: string }[];
      oauthProviders: OAuthProvider[];
      oauthConnections: OAuthConnection[];
    } | null;
  },
  { id: string }
>(`
  query OAuth($id: ID!) {
    workspace(id: $id) {
      id viewerPermissions
      environments { name }
      oauthProviders {
        providerId name builtin configured authorizationEndpoint tokenEndpoint defaultScopes
        grantTypes clientId userTokenExpression serviceTokenExpression
      }
      oauthConnections {
        id providerId environment kind status needsReconnection expiresAt scopes connectedAt
        refreshedAt lastUsedAt expression
      }
    }
  }
`);

export type OAuthConnectInput = {
  workspaceId: string;
  providerId: string;
  environment: string;
  scopes?: string[];
};
export const START_OAUTH_AUTHORIZATION = gql<
  { startOAuthAuthorization: Result<{ authorizationUrl: string }> },
  { input: OAuthConnectInput }
>(`
  mutation StartOAuthAuthorization($input: OAuthConnectInput!) {
    startOAuthAuthorization(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationStartOAuthAuthorizationSuccess { data { authorizationUrl } }
    }
  }
`);
export const CONNECT_OAUTH_CLIENT_CREDENTIALS = gql<
  { connectOAuthClientCredentials: Result<{ id: string }> },
  { input: OAuthConnectInput }
>(`
  mutation ConnectOAuthClientCredentials($input: OAuthConnectInput!) {
    connectOAuthClientCredentials(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationConnectOAuthClientCredentialsSuccess { data { id } }
    }
  }
`);
export const DISCONNECT_OAUTH = gql<
  { disconnectOAuth: Result<boolean> },
  { connectionId: string; workspaceId: string }
>(`
  mutation DisconnectOAuth($connectionId: ID!, $workspaceId: ID!) {
    disconnectOAuth(connectionId: $connectionId, workspaceId: $workspaceId) {
      ${ERROR_FIELDS}
      ... on MutationDisconnectOAuthSuccess { data }
    }
  }
`);
export const CONFIGURE_OAUTH_PROVIDER = gql<
  { configureOAuthProvider: Result<{ providerId: string }> },
  {
    input: {
      workspaceId: string;
      providerId: string;
      clientId: string;
      clientSecret: string;
      defaultScopes?: string[];
    };
  }
>(`
  mutation ConfigureOAuthProvider($input: ConfigureOAuthProviderInput!) {
    configureOAuthProvider(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationConfigureOAuthProviderSuccess { data { providerId } }
    }
  }
`);
export type CreateCustomOAuthProviderInput = {
  workspaceId: string;
  name: string;
  clientId: string;
  clientSecret: string;
  tokenEndpoint: string;
  authorizationEndpoint?: string;
  grantTypes: string[];
  defaultScopes?: string[];
};
export const CREATE_CUSTOM_OAUTH_PROVIDER = gql<
  { createCustomOAuthProvider: Result<{ providerId: string }> },
  { input: CreateCustomOAuthProviderInput }
>(`
  mutation CreateCustomOAuthProvider($input: CreateCustomOAuthProviderInput!) {
    createCustomOAuthProvider(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationCreateCustomOAuthProviderSuccess { data { providerId } }
    }
  }
`);
export const DELETE_OAUTH_PROVIDER = gql<
  { deleteOAuthProvider: Result<boolean> },
  { providerId: string; workspaceId: string }
>(`
  mutation DeleteOAuthProvider($providerId: String!, $workspaceId: ID!) {
    deleteOAuthProvider(providerId: $providerId, workspaceId: $workspaceId) {
      ${ERROR_FIELDS}
      ... on MutationDeleteOAuthProviderSuccess { data }
    }
  }
`);

// ---------------------------------------------------------------- API tokens

export type ApiToken = {
  id: string;
  name: string;
  prefix: string;
  permissions?: Permission[];
  scope?: string;
  status?: "ACTIVE" | "EXPIRED" | "REVOKED";
  createdAt?: string;
  expiresAt?: string | null;
  revokedAt?: string | null;
  lastUsedAt?: string | null;
};
const TOKEN_FIELDS = `
  id name prefix permissions scope status createdAt expiresAt revokedAt lastUsedAt
`;
export const ORGANIZATION_TOKENS = gql<
  { organization: { id: string; apiTokens: Connection<Required<ApiToken>> } | null },
  { id: string }
>(`
  query OrganizationTokens($id: ID!) {
    organization(id: $id) {
      id
      apiTokens(first: 50) { edges { node { ${TOKEN_FIELDS} } } }
    }
  }
`);
export const WORKSPACE_TOKENS = gql<
  {
    workspace: {
      id: string;
      name: string;
      viewerPermissions: Permission[];
      apiTokens: Connection<Required<ApiToken>>;
    } | null;
  },
  { id: string }
>(`
  query WorkspaceTokens($id: ID!) {
    workspace(id: $id) {
      id name viewerPermissions
      apiTokens(first: 50) { edges { node { ${TOKEN_FIELDS} } } }
    }
  }
`);

export type IssueApiTokenInput = {
  name: string;
  permissions: Permission[];
  organizationId?: string;
  workspaceId?: string;
  expiresAt?: string;
};
export const ISSUE_API_TOKEN = gql<
  { issueApiToken: Result<{ token: string; apiToken: { id: string; name: string } }> },
  { input: IssueApiTokenInput }
>(`
  mutation IssueApiToken($input: IssueApiTokenInput!) {
    issueApiToken(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationIssueApiTokenSuccess { data { token apiToken { id name } } }
    }
  }
`);
export const REVOKE_API_TOKEN = gql<
  { revokeApiToken: Result<{ id: string; status: string }> },
  { id: string }
>(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      ${ERROR_FIELDS}
      ... on MutationRevokeApiTokenSuccess { data { id status } }
    }
  }
`);

// ---------------------------------------------------------------- audit and transit key

export type AuditEvent = {
  position: string;
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  actorKind: string;
  actorId: string;
  requestId: string | null;
  data: unknown;
  metadata: unknown;
  hash: string;
  prevHash: string;
};
export type AuditEventFilter = {
  types?: string[];
  actorId?: string;
  streamId?: string;
  since?: string;
  until?: string;
};
export const AUDIT_EVENTS = gql<
  {
    auditEvents: {
      edges: { cursor: string; node: AuditEvent }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  },
  { organizationId: string; filter: AuditEventFilter; after: string | null }
>(`
  query AuditEvents($organizationId: ID!, $filter: AuditEventFilter, $after: String) {
    auditEvents(organizationId: $organizationId, filter: $filter, first: 50, after: $after) {
      edges {
        cursor
        node {
          position streamId streamVersion type schemaVersion occurredAt actorKind actorId
          requestId data metadata hash prevHash
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export type ChainVerification = {
  ok: boolean;
  eventCount: number;
  firstBadPosition: string | null;
  reason: string | null;
  headHash: string | null;
};
export const VERIFY_AUDIT_CHAIN = gql<
  { verifyAuditChain: Result<ChainVerification> },
  { organizationId: string }
>(`
  query VerifyAuditChain($organizationId: ID!) {
    verifyAuditChain(organizationId: $organizationId) {
      ${ERROR_FIELDS}
      ... on QueryVerifyAuditChainSuccess {
        data { ok eventCount firstBadPosition reason headHash }
      }
    }
  }
`);

export type RewrapJob = {
  id: string;
  status: string;
  targetKeyVersion: number;
  total: number;
  rewrapped: number;
  lastError: string | null;
  startedAt: string;
  finishedAt: string | null;
};
export type TransitKeyStatus = {
  keyName: string;
  latestVersion: number | null;
  minDecryptionVersion: number | null;
  ciphertextsByVersion: { keyVersion: number; count: number }[];
  latestRewrapJob: RewrapJob | null;
};
const TRANSIT_KEY_FIELDS = `
  keyName latestVersion minDecryptionVersion
  ciphertextsByVersion { keyVersion count }
  latestRewrapJob { id status targetKeyVersion total rewrapped lastError startedAt finishedAt }
`;
export const TRANSIT_KEY = gql<
  { organization: { id: string; transitKey: TransitKeyStatus } | null },
  { id: string }
>(`
  query TransitKey($id: ID!) {
    organization(id: $id) { id transitKey { ${TRANSIT_KEY_FIELDS} } }
  }
`);
export const ROTATE_TRANSIT_KEY = gql<
  { rotateTransitKey: Result<TransitKeyStatus> },
  { organizationId: string }
>(`
  mutation RotateTransitKey($organizationId: ID!) {
    rotateTransitKey(organizationId: $organizationId) {
      ${ERROR_FIELDS}
      ... on MutationRotateTransitKeySuccess { data { ${TRANSIT_KEY_FIELDS} } }
    }
  }
`);
export const REWRAP_SECRETS = gql<
  { rewrapSecrets: Result<RewrapJob> },
  { organizationId: string }
>(`
  mutation RewrapSecrets($organizationId: ID!) {
    rewrapSecrets(organizationId: $organizationId) {
      ${ERROR_FIELDS}
      ... on MutationRewrapSecretsSuccess {
        data { id status targetKeyVersion total rewrapped lastError startedAt finishedAt }
      }
    }
  }
`);

// ---------------------------------------------------------------- two-factor sign-in

export type MfaStatus = {
  enabled: boolean;
  enabledAt: string | null;
  recoveryCodesRemaining: number;
};

export const MFA_STATUS = gql<{
  viewer: { sessionMfaVerified: boolean; mfa: MfaStatus | null };
}>(`
  query MfaStatus { viewer { sessionMfaVerified mfa { enabled enabledAt recoveryCodesRemaining } } }
`);

export const BEGIN_TOTP = gql<
  { beginTotpEnrollment: Result<{ secret: string; otpauthUri: string }> },
  { input: { password: string } }
>(`
  mutation BeginTotpEnrollment($input: BeginTotpEnrollmentInput!) {
    beginTotpEnrollment(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationBeginTotpEnrollmentSuccess { data { secret otpauthUri } }
    }
  }
`);

export const CONFIRM_TOTP = gql<
  { confirmTotpEnrollment: Result<{ codes: string[] }> },
  { input: { code: string } }
>(`
  mutation ConfirmTotpEnrollment($input: TotpCodeInput!) {
    confirmTotpEnrollment(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationConfirmTotpEnrollmentSuccess { data { codes } }
    }
  }
`);

export const REGENERATE_RECOVERY_CODES = gql<
  { regenerateRecoveryCodes: Result<{ codes: string[] }> },
  { input: { code: string } }
>(`
  mutation RegenerateRecoveryCodes($input: TotpCodeInput!) {
    regenerateRecoveryCodes(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationRegenerateRecoveryCodesSuccess { data { codes } }
    }
  }
`);

export const DISABLE_TOTP = gql<
  { disableTotp: Result<boolean> },
  { input: { password: string; code: string } }
>(`
  mutation DisableTotp($input: DisableTotpInput!) {
    disableTotp(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationDisableTotpSuccess { data }
    }
  }
`);

export type ConsoleSession = {
  id: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string | null;
  current: boolean;
};

export const MY_SESSIONS = gql<{ viewer: { sessions: ConsoleSession[] } }>(`
  query MySessions { viewer { sessions { id createdAt expiresAt lastSeenAt current } } }
`);

export const REVOKE_SESSION = gql<
  { revokeSession: Result<{ id: string; current: boolean }> },
  { id: string }
>(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id) {
      ${ERROR_FIELDS}
      ... on MutationRevokeSessionSuccess { data { id current } }
    }
  }
`);

export const ORGANIZATION_MFA = gql<
  { organization: { id: string; requireMfa: boolean } | null },
  { id: string }
>(`
  query OrganizationMfa($id: ID!) { organization(id: $id) { id requireMfa } }
`);

export const SET_ORGANIZATION_MFA = gql<
  { setOrganizationMfaRequirement: Result<{ id: string; requireMfa: boolean }> },
  { input: { organizationId: string; required: boolean } }
>(`
  mutation SetOrganizationMfaRequirement($input: SetOrganizationMfaRequirementInput!) {
    setOrganizationMfaRequirement(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationSetOrganizationMfaRequirementSuccess { data { id requireMfa } }
    }
  }
`);

// ---------------------------------------------------------------- members and invitations

export type Invitation = {
  id: string;
  email: string;
  role: OrgRole;
  status: "PENDING" | "ACCEPTED" | "REVOKED" | "EXPIRED";
  createdAt: string;
  expiresAt: string;
};
export type PeopleData = {
  organization: {
    id: string;
    viewerRole: OrgRole | null;
    members: Connection<{ role: OrgRole; addedAt: string; user: User }>;
    invitations: Invitation[];
  } | null;
};
export const ORGANIZATION_PEOPLE = gql<PeopleData, { id: string }>(`
  query OrganizationPeople($id: ID!) {
    organization(id: $id) {
      id viewerRole
      members(first: 100) { edges { node { role addedAt user { id email name } } } }
      invitations { id email role status createdAt expiresAt }
    }
  }
`);

export const INVITE_MEMBER = gql<
  { inviteOrganizationMember: Result<{ url: string; invitation: Invitation }> },
  { input: { organizationId: string; email: string; role: OrgRole } }
>(`
  mutation InviteOrganizationMember($input: InviteOrganizationMemberInput!) {
    inviteOrganizationMember(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationInviteOrganizationMemberSuccess {
        data { url invitation { id email role status createdAt expiresAt } }
      }
    }
  }
`);

export const CHANGE_MEMBER_ROLE = gql<
  { changeOrganizationMemberRole: Result<{ role: OrgRole }> },
  { input: { organizationId: string; userId: string; role: OrgRole } }
>(`
  mutation ChangeOrganizationMemberRole($input: ChangeOrganizationMemberRoleInput!) {
    changeOrganizationMemberRole(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationChangeOrganizationMemberRoleSuccess { data { role } }
    }
  }
`);

export const REMOVE_MEMBER = gql<
  { removeOrganizationMember: Result<{ id: string }> },
  { input: { organizationId: string; userId: string } }
>(`
  mutation RemoveOrganizationMember($input: RemoveOrganizationMemberInput!) {
    removeOrganizationMember(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationRemoveOrganizationMemberSuccess { data { id } }
    }
  }
`);

export const END_MEMBER_SESSIONS = gql<
  { endOrganizationMemberSessions: Result<{ id: string }> },
  { input: { organizationId: string; userId: string } }
>(`
  mutation EndOrganizationMemberSessions($input: EndOrganizationMemberSessionsInput!) {
    endOrganizationMemberSessions(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationEndOrganizationMemberSessionsSuccess { data { id } }
    }
  }
`);

export const CHANGE_PASSWORD = gql<
  { changePassword: Result<boolean> },
  { input: { currentPassword: string; newPassword: string } }
>(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationChangePasswordSuccess { data }
    }
  }
`);

export const REVOKE_INVITATION = gql<
  { revokeInvitation: Result<{ id: string; status: string }> },
  { id: string }
>(`
  mutation RevokeInvitation($id: ID!) {
    revokeInvitation(id: $id) {
      ${ERROR_FIELDS}
      ... on MutationRevokeInvitationSuccess { data { id status } }
    }
  }
`);

export type InvitationPreview = {
  organizationName: string;
  email: string;
  role: OrgRole;
  status: Invitation["status"];
  expiresAt: string;
  accountExists: boolean;
};
export const INVITATION_PREVIEW = gql<{ invitation: InvitationPreview | null }, { token: string }>(`
  query InvitationPreview($token: String!) {
    invitation(token: $token) { organizationName email role status expiresAt accountExists }
  }
`);

export const ACCEPT_INVITATION = gql<
  { acceptInvitation: Result<{ id: string; name: string }> },
  { input: { token: string; password?: string; name?: string } }
>(`
  mutation AcceptInvitation($input: AcceptInvitationInput!) {
    acceptInvitation(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationAcceptInvitationSuccess { data { id name } }
    }
  }
`);

// ---------------------------------------------------------------- single sign-on

export type SingleSignOn = {
  issuer: string;
  clientId: string;
  emailDomains: string[];
  defaultRole: OrgRole;
  required: boolean;
  organizationSlug: string;
  updatedAt: string;
};
export const ORGANIZATION_SSO = gql<
  { organization: { id: string; slug: string; singleSignOn: SingleSignOn | null } | null },
  { id: string }
>(`
  query OrganizationSso($id: ID!) {
    organization(id: $id) {
      id slug
      singleSignOn { issuer clientId emailDomains defaultRole required organizationSlug updatedAt }
    }
  }
`);

export type ConfigureSingleSignOnInput = {
  organizationId: string;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  emailDomains: string[];
  defaultRole: OrgRole;
  required: boolean;
};
export const CONFIGURE_SSO = gql<
  { configureSingleSignOn: Result<{ id: string }> },
  { input: ConfigureSingleSignOnInput }
>(`
  mutation ConfigureSingleSignOn($input: ConfigureSingleSignOnInput!) {
    configureSingleSignOn(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationConfigureSingleSignOnSuccess { data { id } }
    }
  }
`);

export const REMOVE_SSO = gql<{ removeSingleSignOn: Result<{ id: string }> }, { id: string }>(`
  mutation RemoveSingleSignOn($id: ID!) {
    removeSingleSignOn(organizationId: $id) {
      ${ERROR_FIELDS}
      ... on MutationRemoveSingleSignOnSuccess { data { id } }
    }
  }
`);

export const START_SSO = gql<
  { startSingleSignOn: Result<{ authorizationUrl: string }> },
  { slug: string }
>(`
  mutation StartSingleSignOn($slug: String!) {
    startSingleSignOn(organizationSlug: $slug) {
      ${ERROR_FIELDS}
      ... on MutationStartSingleSignOnSuccess { data { authorizationUrl } }
    }
  }
`);

export type WorkspaceRole = "ADMIN" | "EDITOR" | "VIEWER";
export type WorkspacePeopleData = {
  workspace: {
    id: string;
    name: string;
    viewerPermissions: Permission[];
    members: Connection<{ role: WorkspaceRole; addedAt: string; user: User }>;
    organization: { id: string; members: Connection<{ role: OrgRole; user: User }> };
  } | null;
};
export const WORKSPACE_PEOPLE = gql<WorkspacePeopleData, { id: string }>(`
  query WorkspacePeople($id: ID!) {
    workspace(id: $id) {
      id name viewerPermissions
      members(first: 100) { edges { node { role addedAt user { id email name } } } }
      organization { id members(first: 100) { edges { node { role user { id email name } } } } }
    }
  }
`);

export const ADD_WORKSPACE_MEMBER = gql<
  { addWorkspaceMember: Result<{ role: WorkspaceRole }> },
  { input: { workspaceId: string; userId: string; role: WorkspaceRole } }
>(`
  mutation AddWorkspaceMember($input: WorkspaceMemberInput!) {
    addWorkspaceMember(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationAddWorkspaceMemberSuccess { data { role } }
    }
  }
`);

export const CHANGE_WORKSPACE_MEMBER_ROLE = gql<
  { changeWorkspaceMemberRole: Result<{ role: WorkspaceRole }> },
  { input: { workspaceId: string; userId: string; role: WorkspaceRole } }
>(`
  mutation ChangeWorkspaceMemberRole($input: WorkspaceMemberInput!) {
    changeWorkspaceMemberRole(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationChangeWorkspaceMemberRoleSuccess { data { role } }
    }
  }
`);

export const REMOVE_WORKSPACE_MEMBER = gql<
  { removeWorkspaceMember: Result<{ id: string }> },
  { input: { workspaceId: string; userId: string } }
>(`
  mutation RemoveWorkspaceMember($input: RemoveWorkspaceMemberInput!) {
    removeWorkspaceMember(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationRemoveWorkspaceMemberSuccess { data { id } }
    }
  }
`);

// ---------------------------------------------------------------- webhooks

export type WebhookSubscription = {
  id: string;
  url: string;
  eventTypes: string[];
  createdAt: string;
  deliveredThroughPosition: string;
  lastDeliveredAt: string | null;
  failedAttempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
};
const WEBHOOK_FIELDS = `id url eventTypes createdAt deliveredThroughPosition lastDeliveredAt failedAttempts lastError nextAttemptAt`;
export const WEBHOOKS = gql<
  { organization: { id: string; webhookSubscriptions: WebhookSubscription[] } | null },
  { id: string }
>(`
  query Webhooks($id: ID!) {
    organization(id: $id) { id webhookSubscriptions { ${WEBHOOK_FIELDS} } }
  }
`);

export const CREATE_WEBHOOK = gql<
  {
    createWebhookSubscription: Result<{
      signingSecret: string;
      subscription: WebhookSubscription;
    }>;
  },
  { input: { organizationId: string; url: string; eventTypes?: string[] } }
>(`
  mutation CreateWebhookSubscription($input: CreateWebhookSubscriptionInput!) {
    createWebhookSubscription(input: $input) {
      ${ERROR_FIELDS}
      ... on MutationCreateWebhookSubscriptionSuccess {
        data { signingSecret subscription { ${WEBHOOK_FIELDS} } }
      }
    }
  }
`);

export const DELETE_WEBHOOK = gql<
  { deleteWebhookSubscription: Result<boolean> },
  { id: string; organizationId: string }
>(`
  mutation DeleteWebhookSubscription($id: ID!, $organizationId: ID!) {
    deleteWebhookSubscription(id: $id, organizationId: $organizationId) {
      ${ERROR_FIELDS}
      ... on MutationDeleteWebhookSubscriptionSuccess { data }
    }
  }
`);

/** Every document above, for the test that validates them against `schema.graphql`. */
export const ALL_OPERATIONS: Record<string, string> = {
  VIEWER,
  SIGN_IN,
  SIGN_OUT,
  MFA_STATUS,
  BEGIN_TOTP,
  CONFIRM_TOTP,
  REGENERATE_RECOVERY_CODES,
  DISABLE_TOTP,
  ORGANIZATION_MFA,
  SET_ORGANIZATION_MFA,
  MY_SESSIONS,
  REVOKE_SESSION,
  WORKSPACE,
  DECLARE_ENVIRONMENT,
  DELETE_ENVIRONMENT,
  CREDENTIAL_TEMPLATES,
  WORKSPACE_SECRETS,
  ORGANIZATION_SECRETS,
  ORGANIZATION_ENVIRONMENTS,
  SECRET,
  MEMBERS,
  TOKEN_NAMES,
  CREATE_SECRET,
  CONFIGURE_CREDENTIAL,
  UPDATE_SECRET,
  ROTATE_SECRET,
  RESTORE_SECRET_VERSION,
  DELETE_SECRET,
  SHARE_SECRET,
  OAUTH,
  START_OAUTH_AUTHORIZATION,
  CONNECT_OAUTH_CLIENT_CREDENTIALS,
  DISCONNECT_OAUTH,
  CONFIGURE_OAUTH_PROVIDER,
  CREATE_CUSTOM_OAUTH_PROVIDER,
  DELETE_OAUTH_PROVIDER,
  ORGANIZATION_TOKENS,
  WORKSPACE_TOKENS,
  ISSUE_API_TOKEN,
  REVOKE_API_TOKEN,
  AUDIT_EVENTS,
  VERIFY_AUDIT_CHAIN,
  TRANSIT_KEY,
  ROTATE_TRANSIT_KEY,
  REWRAP_SECRETS,
  ORGANIZATION_PEOPLE,
  CHANGE_MEMBER_ROLE,
  REMOVE_MEMBER,
  END_MEMBER_SESSIONS,
  CHANGE_PASSWORD,
  INVITE_MEMBER,
  REVOKE_INVITATION,
  INVITATION_PREVIEW,
  ACCEPT_INVITATION,
  ORGANIZATION_SSO,
  CONFIGURE_SSO,
  START_SSO,
  REMOVE_SSO,
  WORKSPACE_PEOPLE,
  ADD_WORKSPACE_MEMBER,
  CHANGE_WORKSPACE_MEMBER_ROLE,
  REMOVE_WORKSPACE_MEMBER,
  WEBHOOKS,
  CREATE_WEBHOOK,
  DELETE_WEBHOOK,
};
