import type { Auth, TestApp } from "./testApp.ts";

/** Typed GraphQL helpers for secrets, shared by the secrets tests. */
export const SECRET_FIELDS = `id name scope environment type keyNames currentVersion expressions template { id } versions { version keyNames origin restoredFrom pruned transitKeyVersion }`;
const RESULT = (success: string) =>
  `__typename ... on Error { message code } ... on ValidationError { issues { path message } } ... on ${success} { data { secret { ${SECRET_FIELDS} } warnings } }`;

export type Values = Record<string, string>;
export const asInput = (values: Values) =>
  Object.entries(values).map(([key, value]) => ({ key, value }));

export function secretOps(t: TestApp) {
  return {
    create: (auth: Auth, input: Record<string, unknown>) =>
      t
        .gql(
          `mutation($i: CreateSecretInput!) { createSecret(input: $i) { ${RESULT("MutationCreateSecretSuccess")} } }`,
          { i: input },
          auth,
        )
        .then((r) => r.data.createSecret),
    configure: (auth: Auth, input: Record<string, unknown>) =>
      t
        .gql(
          `mutation($i: ConfigureCredentialInput!) { configureCredential(input: $i) { ${RESULT("MutationConfigureCredentialSuccess")} } }`,
          { i: input },
          auth,
        )
        .then((r) => r.data.configureCredential),
    update: (auth: Auth, input: Record<string, unknown>) =>
      t
        .gql(
          `mutation($i: UpdateSecretInput!) { updateSecret(input: $i) { ${RESULT("MutationUpdateSecretSuccess")} } }`,
          { i: input },
          auth,
        )
        .then((r) => r.data.updateSecret),
    rotate: (auth: Auth, input: Record<string, unknown>) =>
      t
        .gql(
          `mutation($i: RotateSecretInput!) { rotateSecret(input: $i) { ${RESULT("MutationRotateSecretSuccess")} } }`,
          { i: input },
          auth,
        )
        .then((r) => r.data.rotateSecret),
    restore: (auth: Auth, input: Record<string, unknown>) =>
      t
        .gql(
          `mutation($i: RestoreSecretVersionInput!) { restoreSecretVersion(input: $i) { __typename ... on Error { message code } ... on MutationRestoreSecretVersionSuccess { data { ${SECRET_FIELDS} } } } }`,
          { i: input },
          auth,
        )
        .then((r) => r.data.restoreSecretVersion),
    remove: (auth: Auth, id: string) =>
      t
        .gql(
          `mutation($id: ID!) { deleteSecret(id: $id) { __typename ... on Error { message code } ... on MutationDeleteSecretSuccess { data { name deletedAt } } } }`,
          { id },
          auth,
        )
        .then((r) => r.data.deleteSecret),
    share: (auth: Auth, id: string) =>
      t
        .gql(
          `mutation($id: ID!) { shareSecret(id: $id) { __typename ... on Error { message code } ... on MutationShareSecretSuccess { data { scope } } } }`,
          { id },
          auth,
        )
        .then((r) => r.data.shareSecret),
    get: (auth: Auth, id: string) =>
      t
        .gql(`query($id: ID!) { secret(id: $id) { ${SECRET_FIELDS} } }`, { id }, auth)
        .then((r) => r.data?.secret ?? null),
    list: (auth: Auth, workspaceId: string, filter: Record<string, unknown> = {}) =>
      t
        .gql(
          `query($id: ID!, $f: SecretFilter) { workspace(id: $id) { secrets(filter: $f, first: 100) { edges { node { name scope environment type keyNames currentVersion } } } } }`,
          { id: workspaceId, f: filter },
          auth,
        )
        .then(
          (r) => r.data?.workspace?.secrets.edges.map((e: { node: unknown }) => e.node) ?? r.errors,
        ),
  };
}
