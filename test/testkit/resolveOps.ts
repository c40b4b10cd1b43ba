import type { Auth, TestApp } from "./testApp.ts";

export const RESOLVE = `mutation($i: ResolveSecretsInput!) { resolveSecrets(input: $i) {
  __typename
  ... on Error { message code }
  ... on ValidationError { issues { path message } }
  ... on CredentialNotFoundError { environment environmentDeclared missing hints { name environments } }
  ... on AwsAssumeRoleError { roleArn awsErrorCode }
  ... on RateLimitedError { retryAfterSeconds }
  ... on MutationResolveSecretsSuccess { data { environment arguments redactions usageEventPosition values { ref scope environment version dynamic value } } }
} }`;

export function resolveOps(t: TestApp) {
  return {
    resolve: (auth: Auth, input: Record<string, unknown>) =>
      t.gql(RESOLVE, { i: input }, auth).then((r) => r.data?.resolveSecrets ?? r.errors),
    check: (auth: Auth, input: Record<string, unknown>) =>
      t
        .gql(
          `query($i: CheckSecretsInput!) { checkSecrets(input: $i) { actionRef environment ready found { ref scope version } missing hints { name environments } } }`,
          { i: input },
          auth,
        )
        .then((r) => r.data?.checkSecrets ?? r.errors),
  };
}
