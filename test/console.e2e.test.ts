import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { MAX_QUERY_COST, operationCost } from "../server/src/graphql/queryCost.ts";
import { buildSchema, parse, specifiedRules, validate } from "graphql";
import type { Locator, Page, Response } from "playwright-core";
import { generate } from "otplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALL_OPERATIONS } from "../web/lib/operations.ts";
import { launchBrowser, requireChromium, type Browser } from "./testkit/browser.ts";
import { startOAuthServer, type OAuthServer } from "./testkit/oauthServer.ts";
import { ensureConsoleBuilt, startCoffer, type RunningCoffer } from "./testkit/browserServer.ts";

/**
 * The admin console in a real Chromium against `npm start` (embedded PostgreSQL, the API
 * and the Next.js console on one origin). Every stored value is a random string that the
 * test then looks for in every page's HTML and every response the browser received.
 */
const repoRoot = path.resolve(import.meta.dirname, "..");
const screenshots = path.join(repoRoot, "docs", "screenshots");
const admin = { email: "owner@coffer.test", password: `pw-${randomBytes(12).toString("hex")}` };
const unique = (label: string) => `${label}-${randomBytes(12).toString("hex")}`;

// The values the console must never show back.
const slackV1 = unique("xoxb-first");
const slackV2 = unique("xoxb-rotated");
const apiUrl = `https://reports.example.test/${unique("path")}`;
const apiKeyV1 = unique("api-key-first");
const apiKeyV2 = unique("api-key-second");
const githubClientSecret = unique("github-client-secret");
const githubPat = unique("ghp");
const awsSessionName = unique("session");
const webhookUrl = `https://hooks.example.test/${unique("hook")}`;
/** slack in `default`: created, then replaced while someone else rotated it. */
const slackDefault = [unique("xoxb-default-1"), unique("xoxb-default-2"), unique("xoxb-default-3")];
const fixture = (name: string) => readFileSync(path.join(repoRoot, "test/fixtures", name), "utf8");
// Pasted without its final newline, as a key often arrives from a clipboard.
const sshKey = fixture("id_ed25519").trimEnd();
// A line from the middle of each key: distinctive, and present in any copy of it.
const sshKeyLine = sshKey.split("\n")[2]!;
const clientKeyLine = fixture("client.key").split("\n")[2]!;
const storedValues = [
  slackV1,
  slackV2,
  apiUrl,
  apiKeyV1,
  apiKeyV2,
  githubClientSecret,
  githubPat,
  webhookUrl,
  sshKeyLine,
  clientKeyLine,
  awsSessionName,
  ...slackDefault,
];

let coffer: RunningCoffer;
let idp: OAuthServer;
/** The organization's identity provider for single sign-on (a second oidc-provider). */
let ssoIdp: OAuthServer;
let browser: Browser;
let page: Page;
let origin: string;
let adminCookie: string;
let workspaceId: string;
let organizationId: string;
/** A workspace token with secrets:resolve, as a platform would hold. */
let runnerToken: string;
/** The MEMBER added by the organization-secrets test (the two-factor test signs in as them). */
let memberPassword: string;
const htmlSnapshots: { where: string; html: string }[] = [];
const responses: { url: string; body: string }[] = [];
const pending: Promise<void>[] = [];
const timings: Record<string, number> = {};

beforeAll(async () => {
  requireChromium();
  const started = Date.now();
  const build = ensureConsoleBuilt();
  timings.build = build.ms;
  // Short-lived tokens, so that a test can wait until one is due for refresh (half its life).
  idp = await startOAuthServer({ accessTokenTtlSeconds: 4 });
  // The test's authorization server speaks plain http on loopback.
  // The test's authorization servers and webhook receiver speak plain http on loopback.
  coffer = await startCoffer(admin, {
    OAUTH_ALLOW_LOOPBACK_HTTP: "true",
    WEBHOOKS_ALLOW_LOOPBACK_HTTP: "true",
  });
  origin = coffer.origin;
  idp.setRedirectUri(`${origin}/oauth/callback`);
  ssoIdp = await startOAuthServer({ redirectUri: `${origin}/auth/sso/callback` });
  timings.serverStart = Date.now() - started - build.ms;
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(15_000);
  browser.context.on("response", (response: Response) => {
    pending.push(
      response.body().then(
        (body) => void responses.push({ url: response.url(), body: body.toString("utf8") }),
        () => undefined, // redirects and aborted requests have no body
      ),
    );
  });
  mkdirSync(screenshots, { recursive: true });
}, 240_000);

afterEach(async (context) => {
  if (context.task.result?.state !== "fail" || !page) return;
  // What the person would have seen when it failed.
  const dir = path.join(repoRoot, "test-results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `console-${context.task.name.replace(/\W+/g, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  console.error(`console e2e failure at ${page.url()}; screenshot: ${file}`);
});

afterAll(async () => {
  await browser?.close();
  await coffer?.stop();
  await idp?.close();
  await ssoIdp?.close();
  console.warn(`console e2e timings (ms): ${JSON.stringify(timings)}`);
}, 60_000);

async function graphql(
  query: string,
  variables: object = {},
  auth?: { cookie?: string; token?: string },
) {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(auth?.cookie ? { cookie: auth.cookie } : {}),
      ...(auth?.token ? { authorization: `Bearer ${auth.token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: any; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return { data: body.data, response };
}

// Playwright's web-first assertions live in @playwright/test; these are the few we need.
const within = { timeout: 15_000 };
const hasText = (l: Locator, text: string) =>
  expect.poll(() => l.innerText(), within).toContain(text);
const lacksText = (l: Locator, text: string) =>
  expect.poll(() => l.innerText(), within).not.toContain(text);
const hasExactText = (l: Locator, text: string) =>
  expect.poll(async () => (await l.innerText()).trim(), within).toBe(text);
const hasValue = (l: Locator, value: string) =>
  expect.poll(() => l.inputValue(), within).toBe(value);
const hasAttribute = (l: Locator, name: string, value: string) =>
  expect.poll(() => l.getAttribute(name), within).toBe(value);
const hasCount = (l: Locator, count: number) => expect.poll(() => l.count(), within).toBe(count);

/** A link of the console's sidebar navigation. */
const nav = (name: string) =>
  page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name, exact: true });

/** Records the page's HTML (checked for values at the end) and saves a screenshot. */
async function checkpoint(name: string, { screenshot = false } = {}) {
  await page.waitForLoadState("networkidle");
  htmlSnapshots.push({ where: `${name} (${page.url()})`, html: await page.content() });
  if (screenshot) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  }
}

/** Resolves expressions with the runner token, as a platform does before an action runs. */
async function resolve(args: Record<string, string>, environment = "default") {
  const { data } = await graphql(
    `
      mutation ($i: ResolveSecretsInput!) {
        resolveSecrets(input: $i) {
          __typename
          ... on Error {
            message
          }
          ... on MutationResolveSecretsSuccess {
            data {
              arguments
            }
          }
        }
      }
    `,
    { i: { arguments: args, environment, purpose: { workflowId: "wf-e2e", runId: "run-1" } } },
    { token: runnerToken },
  );
  return data.resolveSecrets as { __typename: string; message?: string; data?: { arguments: any } };
}

/** Logs in and consents at a test authorization server, whichever pages it shows. */
async function consentAtProvider(
  provider = idp,
  { login: account = "test-user", back = "/oauth/callback" } = {},
) {
  await page.waitForURL((url) => url.origin === provider.issuer);
  for (let i = 0; i < 4 && new URL(page.url()).origin === provider.issuer; i++) {
    const login = page.locator('input[name="login"]');
    if (await login.isVisible()) {
      await login.fill(account);
      await page.locator('input[name="password"]').fill("any-password");
    }
    await Promise.all([page.waitForNavigation(), page.locator('button[type="submit"]').click()]);
  }
  await page.waitForURL((url) => url.origin === origin && url.pathname === back);
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    timings[name] = Date.now() - started;
  }
}

describe("console operations", () => {
  it("are valid against the committed schema.graphql and within the API's cost limit", () => {
    const schema = buildSchema(readFileSync(path.join(repoRoot, "schema.graphql"), "utf8"));
    for (const [name, document] of Object.entries(ALL_OPERATIONS)) {
      const errors = validate(schema, parse(document), specifiedRules).map((e) => e.message);
      expect(errors, name).toEqual([]);
      // The same scoring and limit as server/src/graphql/yoga.ts (pages in variables at the
      // largest default): a page size that grows past it would be refused there.
      const cost = operationCost(parse(document), undefined, {}, 50);
      expect(cost, name).toBeGreaterThan(0);
      expect(cost, name).toBeLessThanOrEqual(MAX_QUERY_COST);
    }
  });
});

describe("admin console in Chromium", () => {
  it("signs in with the first-run login", async () => {
    await step("signIn", async () => {
      await page.goto(`${origin}/`);
      await expect
        .poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible())
        .toBe(true);
      await checkpoint("sign-in", { screenshot: true });
      await page.getByLabel("Email").fill(admin.email);
      await page.getByLabel("Password").fill("not-the-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "incorrect" }).waitFor();
      // Keyboard only: the form submits with Enter.
      await page.getByLabel("Password").fill(admin.password);
      await page.getByLabel("Password").press("Enter");
      await page.waitForURL(/\/w\/[0-9a-f-]{36}\/credentials$/);
      workspaceId = /\/w\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
      await page.getByRole("heading", { name: "No credentials yet" }).waitFor();
      await expect
        .poll(() => page.getByLabel("Organization").inputValue())
        .toMatch(/[0-9a-f-]{36}/);
      organizationId = await page.getByLabel("Organization").inputValue();
      await checkpoint("credentials-empty");
    });
    // A session for the API calls the test makes on the side (as a platform would).
    const { response } = await graphql(
      `
        mutation ($i: SignInInput!) {
          signIn(input: $i) {
            __typename
          }
        }
      `,
      { i: admin },
    );
    adminCookie = response.headers.get("set-cookie")!.split(";")[0]!;
  }, 60_000);

  it("declares customer_acme and configures slack there from its template", async () => {
    await step("slackFromTemplate", async () => {
      await nav("Environments").click();
      await page.getByLabel("Environment name").fill("customer_acme");
      await page.getByRole("button", { name: "Declare" }).click();
      await page.getByText("Declared customer_acme").waitFor();
      await page.locator('tr[data-environment="customer_acme"]').waitFor();
      await checkpoint("environments", { screenshot: true });

      await nav("Credentials").click();
      await page.getByRole("link", { name: "Add credential" }).click();
      await page.getByRole("button", { name: "Configure Slack" }).waitFor();
      await checkpoint("add-credential", { screenshot: true });
      await page.getByRole("button", { name: "Configure Slack" }).click();
      // The template fills in the name (read-only) and the key.
      await hasValue(page.getByLabel("Name"), "slack");
      await hasAttribute(page.getByLabel("Name"), "readonly", "");
      await page.getByLabel("Environment").selectOption("customer_acme");
      await page.getByLabel("SLACK_BOT_TOKEN").fill(slackV1);
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "slack", exact: true }).waitFor();
      await page.getByText("Saved slack in customer_acme (version 1)").waitFor();
      await hasExactText(page.getByTestId("current-version"), "v1");
      await checkpoint("slack-created");
    });
  }, 60_000);

  it("explains the AWS template's at-least-one rule and warns about its deprecated key", async () => {
    await step("awsTemplate", async () => {
      await page.goto(`${origin}/w/${workspaceId}/credentials/new`);
      await page.getByRole("button", { name: "Configure AWS" }).click();
      await page.getByText("Give at least one of these keys").waitFor();
      await hasText(page.getByText("AWS_ROLE_SESSION_NAME").first().locator(".."), "Deprecated");
      await checkpoint("configure-aws", { screenshot: true });
      // Nothing given: the server's rule comes back in words.
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByText("Give at least one of: AWS_ROLE_ARN").waitFor();
      await page.getByLabel("AWS_ROLE_ARN").fill("arn:aws:iam::123456789012:role/CofferDeploy");
      await page.getByLabel("AWS_ROLE_SESSION_NAME").fill(awsSessionName);
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "aws", exact: true }).waitFor();
      await page.getByText("with warnings").waitFor();
      await page.getByText("AWS_ROLE_SESSION_NAME is not used").waitFor();
    });
  }, 60_000);

  it("rotates slack to version 2 under the same name", async () => {
    await step("rotate", async () => {
      await page.goto(`${origin}/w/${workspaceId}/credentials`);
      await page.locator('tr[data-credential="slack@customer_acme"]').getByRole("link").click();
      // The tabs follow the ARIA pattern: arrow keys move between them.
      await page.getByRole("tab", { name: "Edit keys" }).focus();
      await page.keyboard.press("ArrowRight");
      await hasAttribute(page.getByRole("tab", { name: "Rotate" }), "aria-selected", "true");
      await page.getByLabel("New SLACK_BOT_TOKEN").fill(slackV2);
      await page.getByRole("button", { name: "Rotate to version 2" }).click();
      await page.getByText("Rotated: now at version 2").waitFor();
      await hasExactText(page.getByTestId("current-version"), "v2");
      await hasText(page.locator('tr[data-version="2"]'), "Rotated");
      await hasText(page.locator('tr[data-version="1"]'), "Restore v1");
      // The rotate form starts empty again: the typed value is gone from the page.
      await page.getByRole("tab", { name: "Edit keys" }).click();
      await hasValue(page.getByLabel("SLACK_BOT_TOKEN"), "");
      await hasAttribute(page.getByLabel("SLACK_BOT_TOKEN"), "placeholder", "Unchanged");
      await checkpoint("slack-rotated");
    });
  }, 60_000);

  it("creates an ssh_key from a PEM without its trailing newline, with inline validation", async () => {
    await step("sshKey", async () => {
      await page.goto(`${origin}/w/${workspaceId}/credentials/new`);
      await page.getByRole("button", { name: "Create SSH key" }).click();
      await page.getByLabel("Name").fill("deploy-key");
      const pem = page.getByLabel("PRIVATE_KEY — private key");
      await pem.fill(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----",
      );
      await page.getByRole("button", { name: "Save credential" }).click();
      // The server's ValidationError issue is shown under the field it concerns.
      await hasAttribute(pem, "aria-invalid", "true");
      const describedBy = (await pem.getAttribute("aria-describedby"))!;
      const errorId = describedBy.split(" ").find((id) => id.endsWith("-error"))!;
      await hasText(page.locator(`[id="${errorId}"]`), "");
      await pem.fill(sshKey);
      expect(sshKey.endsWith("\n")).toBe(false);
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "deploy-key", exact: true }).waitFor();
      await hasExactText(page.getByTestId("current-version"), "v1");
      await checkpoint("ssh-key-created");
    });
  }, 60_000);

  it("creates mTLS and CA certificate credentials from PEM textareas", async () => {
    await step("mtlsAndCa", async () => {
      await page.goto(`${origin}/w/${workspaceId}/credentials/new`);
      await page.getByRole("button", { name: "Create mTLS client certificate" }).click();
      await page.getByLabel("Name").fill("partner-mtls");
      await page
        .getByLabel("TLS_CERTIFICATE — client certificate (PEM)")
        .fill(fixture("client.pem"));
      // A key that does not belong to the certificate is refused under its field.
      await page.getByLabel("TLS_PRIVATE_KEY — private key (PEM)").fill(sshKey);
      await page.getByRole("button", { name: "Save credential" }).click();
      await hasAttribute(
        page.getByLabel("TLS_PRIVATE_KEY — private key (PEM)"),
        "aria-invalid",
        "true",
      );
      await page
        .getByLabel("TLS_PRIVATE_KEY — private key (PEM)")
        .fill(fixture("client.key").trimEnd());
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "partner-mtls", exact: true }).waitFor();
      await hasText(page.locator("dl"), "TLS_CERTIFICATE");

      await page.goto(`${origin}/w/${workspaceId}/credentials/new`);
      await page.getByRole("button", { name: "Create CA certificate" }).click();
      await page.getByLabel("Name").fill("internal-ca");
      await page.getByLabel("CA_CERTIFICATE — CA certificate bundle (PEM)").fill(fixture("ca.pem"));
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "internal-ca", exact: true }).waitFor();
      await checkpoint("pem-credentials");
    });
  }, 60_000);

  it("edits one key of a custom credential and keeps the others", async () => {
    await step("editMerge", async () => {
      await page.goto(`${origin}/w/${workspaceId}/credentials/new`);
      await page.getByRole("button", { name: "Create custom" }).click();
      await page.getByLabel("Name").fill("reporting-api");
      await page.getByLabel("Key 1", { exact: true }).fill("API_URL");
      await page.getByLabel("Value 1", { exact: true }).fill(apiUrl);
      await page.getByRole("button", { name: "Add key" }).click();
      await page.getByLabel("Key 2", { exact: true }).fill("API_KEY");
      await page.getByLabel("Value 2", { exact: true }).fill(apiKeyV1);
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "reporting-api", exact: true }).waitFor();

      const form = page.getByRole("form", { name: "Edit keys" });
      await hasValue(form.getByLabel("API_URL", { exact: true }), "");
      await form.getByLabel("API_KEY", { exact: true }).fill(apiKeyV2);
      await form.getByRole("button", { name: "Save changes" }).click();
      await page.getByText("now at version 2").waitFor();
      await hasExactText(page.getByTestId("current-version"), "v2");
      await hasText(page.locator('tr[data-version="2"]'), "Updated");
      await hasText(page.locator('tr[data-version="2"]'), "API_KEY");
      await hasText(page.locator('tr[data-version="2"]'), "API_URL");
      await checkpoint("custom-edited");
    });
  }, 60_000);

  it("shows a resolution done through the API in Recent usage", async () => {
    const { data } = await graphql(
      `
        mutation ($i: IssueApiTokenInput!) {
          issueApiToken(input: $i) {
            ... on MutationIssueApiTokenSuccess {
              data {
                token
              }
            }
          }
        }
      `,
      {
        i: {
          name: "workflow-runner",
          workspaceId: btoa(`Workspace:${workspaceId}`),
          permissions: ["SECRETS_RESOLVE"],
        },
      },
      { cookie: adminCookie },
    );
    const token = data.issueApiToken.data.token as string;
    runnerToken = token;
    const resolved = await graphql(
      `
        mutation ($i: ResolveSecretsInput!) {
          resolveSecrets(input: $i) {
            __typename
            ... on MutationResolveSecretsSuccess {
              data {
                arguments
              }
            }
          }
        }
      `,
      {
        i: {
          arguments: {
            channel: "#alerts",
            token: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}",
          },
          environment: "customer_acme",
          purpose: {
            workflowId: "wf-onboarding",
            runId: "run-42",
            actionRef: "tools.slack.post_message",
          },
        },
      },
      { token },
    );
    expect(resolved.data.resolveSecrets.data.arguments.token).toBe(slackV2);
    // The merge kept API_URL while API_KEY changed.
    const merged = await graphql(
      `
        mutation ($i: ResolveSecretsInput!) {
          resolveSecrets(input: $i) {
            ... on MutationResolveSecretsSuccess {
              data {
                arguments
              }
            }
          }
        }
      `,
      {
        i: {
          arguments: {
            url: "${{ SECRETS.reporting-api.API_URL }}",
            key: "${{ SECRETS.reporting-api.API_KEY }}",
          },
          purpose: { workflowId: "wf-report", runId: "run-7", actionRef: "core.http_request" },
        },
      },
      { token },
    );
    expect(merged.data.resolveSecrets.data.arguments).toEqual({ url: apiUrl, key: apiKeyV2 });

    await step("recentUsage", async () => {
      await page.goto(`${origin}/w/${workspaceId}/credentials`);
      const row = page.locator('tr[data-credential="slack@customer_acme"]');
      await hasText(row, "v2");
      await lacksText(row, "Never");
      await checkpoint("credentials", { screenshot: true });
      await row.getByRole("link", { name: "slack" }).click();
      const usage = page.locator("#recent-usage");
      await hasText(usage, "tools.slack.post_message");
      await hasText(usage, "wf-onboarding");
      await hasText(usage, "run run-42");
      await hasText(usage, "customer_acme");
      await hasText(usage, "API token workflow-runner");
      await hasText(usage.locator("tbody tr").first(), "v2");
      await checkpoint("credential-detail", { screenshot: true });
    });
  }, 60_000);

  it("shows the events in the audit log and a verified chain", async () => {
    await step("audit", async () => {
      await nav("Audit log").click();
      await page.getByText("Chain verified").waitFor();
      for (const type of [
        "EnvironmentDeclared",
        "SecretCreated",
        "SecretRotated",
        "SecretUpdated",
        "ApiTokenIssued",
        "SecretsResolved",
      ])
        await page.locator(`tr[data-event-type="${type}"]`).first().waitFor();
      const resolvedRow = page.locator('tr[data-event-type="SecretsResolved"]').first();
      await resolvedRow.getByRole("button", { name: /Details/ }).click();
      await hasText(page.locator("pre").first(), "slack");
      await page.getByText("Transit key", { exact: true }).waitFor();
      await checkpoint("audit-log", { screenshot: true });
      // Filter by type.
      await page.getByLabel("Event types").fill("SecretRotated");
      await page.getByRole("button", { name: "Apply filters" }).click();
      await hasCount(page.locator("tbody tr[data-event-type]"), 1);
    });
  }, 60_000);

  it("shows an API token exactly once", async () => {
    await step("apiToken", async () => {
      await nav("API tokens").click();
      await page.getByLabel("Name").fill("ci-runner");
      await page.getByRole("button", { name: "Issue token" }).click();
      const shown = page.getByLabel("Token", { exact: true });
      await shown.waitFor();
      const token = await shown.inputValue();
      expect(token.length).toBeGreaterThan(20);
      await page.getByText("it will not be shown again").waitFor();
      await page.getByRole("button", { name: "Copy token" }).waitFor();
      await page.getByRole("button", { name: "I have stored it" }).click();
      await page.locator('tr[data-token="ci-runner"]').waitFor();
      expect(await page.content()).not.toContain(token);
      await checkpoint("api-tokens", { screenshot: true });
      await page.reload();
      await page.locator('tr[data-token="ci-runner"]').waitFor();
      expect(await page.content()).not.toContain(token);
      // Nothing the browser received since the issuing response carries the token again.
      await Promise.all(pending);
      const issuedAt = responses.findIndex((r) => r.body.includes(token));
      expect(responses.slice(issuedAt + 1).filter((r) => r.body.includes(token))).toEqual([]);
    });
  }, 60_000);

  it("configures an OAuth provider without ever showing its client secret", async () => {
    await step("oauth", async () => {
      await page.goto(`${origin}/w/${workspaceId}/oauth`);
      const github = page.locator('tr[data-provider="github"]');
      await github.getByRole("button", { name: "Configure" }).click();
      await page.getByLabel("Client id").fill("Iv1.coffer-e2e");
      await page.getByLabel("Client secret").fill(githubClientSecret);
      await page.getByRole("button", { name: "Save client" }).click();
      await page.getByText("GitHub is configured").waitFor();
      await hasText(github, "configured");
      await github.getByRole("button", { name: "Connect GitHub" }).waitFor();
    });
  }, 60_000);

  it("connects, reconnects and disconnects a custom OAuth provider through its consent page", async () => {
    await step("oauthConnect", async () => {
      await page.getByRole("button", { name: "Add custom provider" }).click();
      const dialog = page.getByRole("dialog", { name: "Add a custom OAuth provider" });
      await dialog.getByLabel("Name").fill("Test IdP");
      await dialog.getByLabel("Authorization endpoint").fill(idp.authorizationEndpoint);
      await dialog.getByLabel("Token endpoint").fill(idp.tokenEndpoint);
      await dialog.getByLabel("Client id").fill(idp.client.clientId);
      await dialog.getByLabel("Client secret").fill(idp.client.clientSecret);
      await dialog.getByLabel("Default scopes").fill("openid read");
      await dialog.getByLabel("Service tokens (client credentials)").check();
      await dialog.getByRole("button", { name: "Add provider" }).click();
      await page.getByText("Added the provider custom_test_idp").waitFor();
      const row = page.locator('tr[data-provider="custom_test_idp"]');
      await hasText(row, "configured");

      // Authorization code + PKCE: the browser goes to the provider and comes back.
      await row.getByRole("button", { name: "Connect Test IdP" }).click();
      await consentAtProvider();
      await page.getByText("Connected custom_test_idp (default)").waitFor();

      await page.goto(`${origin}/w/${workspaceId}/oauth`);
      const connections = page.getByRole("table", { name: "OAuth connections" });
      await hasText(connections, "User (authorization code)");
      await hasText(connections, "SECRETS.custom_test_idp_oauth.CUSTOM_TEST_IDP_USER_TOKEN");
      // Client credentials: a service token, straight from the token endpoint.
      await row.getByRole("button", { name: "Connect service token" }).click();
      await page.getByText("Connected Test IdP in default with its client credentials").waitFor();
      await hasText(connections, "Service (client credentials)");
      await checkpoint("oauth", { screenshot: true });

      // Reconnect the service token, then disconnect it.
      const service = connections.locator("tr", { hasText: "Service (client credentials)" });
      await service.getByRole("button", { name: "Reconnect" }).click();
      await page.getByText("Connected Test IdP in default with its client credentials").waitFor();
      // (The page announces it once the list shows the new connection, so the row's
      // Disconnect acts on it, not on the one it replaced.)
      await service.getByRole("button", { name: "Disconnect" }).click();
      await page
        .getByRole("dialog", { name: "Disconnect?" })
        .getByRole("button", { name: "Disconnect" })
        .click();
      await page.getByText("Disconnected custom_test_idp in default").waitFor();
      await hasCount(connections.locator("tbody tr"), 1);

      // The provider revokes the grant: the next refresh fails and the console says so.
      await idp.revokeRefreshTokens();
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // into the token's refresh window
      const refused = await resolve({
        t: "${{ SECRETS.custom_test_idp_oauth.CUSTOM_TEST_IDP_USER_TOKEN }}",
      });
      expect(refused.__typename).toBe("OAuthReconnectionRequiredError");
      await page.reload();
      const user = connections.locator("tr", { hasText: "User (authorization code)" });
      await hasText(user, "Needs reconnection");
      await checkpoint("oauth-needs-reconnection");
      await user.getByRole("button", { name: "Reconnect" }).click();
      await consentAtProvider();
      await page.getByText("Connected custom_test_idp (default)").waitFor();
      await page.goto(`${origin}/w/${workspaceId}/oauth`);
      await hasText(user, "Connected");
      await lacksText(user, "Needs reconnection");
      const resolved = await resolve({
        t: "${{ SECRETS.custom_test_idp_oauth.CUSTOM_TEST_IDP_USER_TOKEN }}",
      });
      expect(resolved.__typename).toBe("MutationResolveSecretsSuccess");
    });
  }, 60_000);

  it("restores a version, shares a personal credential and deletes after confirmation", async () => {
    await step("restoreShareDelete", async () => {
      // Restore: slack's version 1 values come back as version 3.
      await page.goto(`${origin}/w/${workspaceId}/credentials`);
      await page.locator('tr[data-credential="slack@customer_acme"]').getByRole("link").click();
      await page.getByRole("button", { name: "Restore v1" }).click();
      await page
        .getByRole("dialog", { name: "Restore version 1?" })
        .getByRole("button", { name: "Restore" })
        .click();
      await page.getByText("Restored the values of version 1 as version 3").waitFor();
      await hasExactText(page.getByTestId("current-version"), "v3");
      await hasText(page.locator('tr[data-version="3"]'), "Restored from v1");
      const restored = await resolve(
        { t: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}" },
        "customer_acme",
      );
      expect(restored.data?.arguments.t).toBe(slackV1);

      // A personal credential, then shared with the workspace.
      await page.goto(`${origin}/w/${workspaceId}/credentials/new`);
      await page.getByRole("button", { name: "Create custom" }).click();
      await page.getByLabel("Name").fill("github-pat");
      await page.getByLabel("Who can use it").selectOption("PERSONAL");
      await page.getByLabel("Key 1", { exact: true }).fill("TOKEN");
      await page.getByLabel("Value 1", { exact: true }).fill(githubPat);
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "github-pat", exact: true }).waitFor();
      await page.getByRole("heading", { name: "Personal credential" }).waitFor();
      // Runs not on the owner's behalf do not find it.
      const hidden = await resolve({ t: "${{ SECRETS.github-pat.TOKEN }}" });
      expect(hidden.__typename).toBe("CredentialNotFoundError");
      await page.getByRole("button", { name: "Share with the workspace" }).click();
      await page
        .getByRole("dialog", { name: "Share github-pat with the workspace?" })
        .getByRole("button", { name: "Share" })
        .click();
      await page.getByText("github-pat is now shared with the workspace").waitFor();
      await page
        .getByRole("heading", { name: "Personal credential" })
        .waitFor({ state: "detached" });
      expect((await resolve({ t: "${{ SECRETS.github-pat.TOKEN }}" })).data?.arguments.t).toBe(
        githubPat,
      );

      // Delete: the name must be typed before the button works.
      await page.goto(`${origin}/w/${workspaceId}/credentials`);
      await page.locator('tr[data-credential="deploy-key@default"]').getByRole("link").click();
      await page.getByRole("button", { name: "Delete credential" }).click();
      const dialog = page.getByRole("dialog", { name: "Delete deploy-key?" });
      // Escape cancels, as in any modal dialog.
      await dialog.waitFor();
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      await page.getByRole("button", { name: "Delete credential" }).click();
      expect(await dialog.getByRole("button", { name: "Delete credential" }).isDisabled()).toBe(
        true,
      );
      await dialog.getByLabel("Type deploy-key to confirm").fill("deploy-key");
      await dialog.getByRole("button", { name: "Delete credential" }).click();
      await page.waitForURL(new RegExp(`/w/${workspaceId}/credentials$`));
      await page.getByText("Deleted deploy-key from default").waitFor();
      await hasCount(page.locator('tr[data-credential="deploy-key@default"]'), 0);
      const gone = await resolve({ k: "${{ SECRETS.deploy-key.PRIVATE_KEY }}" });
      expect(gone.__typename).toBe("CredentialNotFoundError");
      await checkpoint("after-delete");
    });
  }, 60_000);

  it("opens organization secrets for the owner but not for a MEMBER", async () => {
    await step("organizationSecrets", async () => {
      await nav("Organization secrets").click();
      await page.getByRole("heading", { name: "No organization secrets yet" }).waitFor();
      await page.getByRole("link", { name: "Add organization secret" }).first().click();
      await page.getByRole("button", { name: "Create custom" }).click();
      await page.getByLabel("Name").fill("shared-webhook");
      await page.getByLabel("Key 1", { exact: true }).fill("URL");
      await page.getByLabel("Value 1", { exact: true }).fill(webhookUrl);
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByRole("heading", { name: "shared-webhook", exact: true }).waitFor();
      await nav("Organization secrets").click();
      await page.locator('tr[data-credential="shared-webhook@default"]').waitFor();
      await checkpoint("organization-secrets", { screenshot: true });
      // Every workspace resolves it.
      expect((await resolve({ u: "${{ SECRETS.shared-webhook.URL }}" })).data?.arguments.u).toBe(
        webhookUrl,
      );
    });
    memberPassword = "mia's own password 1";
    const invitationUrl = await step("invite", async () => {
      // An admin invites by email: a single-use link, shown once, for the admin to send.
      await nav("Members").click();
      await page.getByRole("heading", { name: "Members", exact: true }).first().waitFor();
      await page.getByLabel("Email").fill("member@coffer.test");
      await page.getByLabel("Role").selectOption("MEMBER");
      await page.getByRole("button", { name: "Create invitation link" }).click();
      const url = await page.getByLabel("Invitation link").inputValue();
      expect(url).toMatch(new RegExp(`^${origin}/invite#coffer_inv_[\\w-]{43}$`));
      await checkpoint("members-invitation-link", { screenshot: true });
      await page.getByRole("button", { name: "I have sent it" }).click();
      await page.locator('tr[data-invitation="member@coffer.test"]').waitFor();
      await checkpoint("members", { screenshot: true });
      return url;
    });
    await step("member", async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      // The invitee opens the link, chooses a password, and is signed in.
      await page.goto(invitationUrl);
      await page.getByRole("heading", { name: /^Join / }).waitFor();
      // The secret part leaves the address bar once read.
      expect(page.url()).toBe(`${origin}/invite`);
      await page.getByLabel("Your name").fill("Mia Member");
      await page.getByLabel("Choose a password").fill(memberPassword);
      await page.getByLabel("Repeat the password").fill(memberPassword);
      await checkpoint("invitation-accept", { screenshot: true });
      await page.getByRole("button", { name: "Create account and join" }).click();
      // A member of no workspace lands on the organization's overview.
      await page.waitForURL(new RegExp(`/o/${organizationId}$`));
      await page.getByText("You are not in any workspace of this organization yet").waitFor();
      await nav("Organization secrets").click();
      await page
        .getByRole("heading", { name: "You are not allowed to open organization secrets" })
        .waitFor();
      await checkpoint("organization-secrets-member", { screenshot: true });
      // The same answer when the address is typed directly.
      await page.goto(`${origin}/o/${organizationId}/secrets`);
      await page
        .getByRole("heading", { name: "You are not allowed to open organization secrets" })
        .waitFor();
      await Promise.all(pending);
      expect(
        responses.some((r) => r.url.endsWith("/graphql") && r.body.includes('"FORBIDDEN"')),
      ).toBe(true);
    });
  }, 60_000);

  it("turns on two-factor sign-in, then signs in with a recovery code", async () => {
    let recoveryCodes: string[] = [];
    await step("twoFactor", async () => {
      // The MEMBER from the test before is signed in.
      await nav("Your account").click();
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      await page.getByLabel("Your password").fill(memberPassword);
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
      expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
      await page.getByLabel("Code from the app").fill(await generate({ secret }));
      await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
      const list = page.getByRole("list", { name: "Recovery codes" });
      await list.waitFor();
      recoveryCodes = (await list.locator("code").allTextContents()).map((c) => c.trim());
      expect(recoveryCodes).toHaveLength(10);
      await checkpoint("two-factor-recovery-codes", { screenshot: true });
      await page.getByRole("button", { name: "I have saved them" }).click();
      await page.getByText("10 of 10 recovery codes left.").waitFor();

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByLabel("Email").fill("member@coffer.test");
      await page.getByLabel("Password").fill(memberPassword);
      await page.getByRole("button", { name: "Sign in" }).click();
      // The password was right: the console asks for the second factor.
      const codeField = page.getByLabel("Authentication code");
      await codeField.waitFor();
      await checkpoint("sign-in-two-factor", { screenshot: true });
      await codeField.fill("000000");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "incorrect" }).waitFor();
      await codeField.fill(recoveryCodes[0]!);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(new RegExp(`/o/${organizationId}$`));
      await nav("Your account").click();
      await page.getByText("9 of 10 recovery codes left.").waitFor();

      // Another sign-in (as from a second laptop) is listed, and signed out from here.
      const { response } = await graphql(
        `
          mutation ($i: SignInInput!) {
            signIn(input: $i) {
              __typename
            }
          }
        `,
        { i: { email: "member@coffer.test", password: memberPassword, mfaCode: recoveryCodes[1] } },
      );
      const laptop = response.headers.get("set-cookie")!.split(";")[0]!;
      // Raw, not graphql(): a signed-out cookie answers a top-level UNAUTHENTICATED.
      const viewerKind = async () => {
        const answer = await fetch(`${origin}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie: laptop },
          body: JSON.stringify({ query: "{ viewer { kind } }" }),
        });
        const body = (await answer.json()) as { data?: { viewer?: { kind: string } | null } };
        return body.data?.viewer?.kind ?? null;
      };
      expect(await viewerKind()).toBe("USER");
      await page.reload();
      const other = page.locator('tr[data-session="other"]');
      await hasCount(other, 1);
      await checkpoint("account-sessions", { screenshot: true });
      await other.getByRole("button", { name: "Sign out" }).click();
      await hasCount(other, 0);
      expect(await viewerKind()).toBeNull();
      await hasCount(page.locator('tr[data-session="current"]'), 1);
    });
  }, 60_000);

  it("sets up single sign-on, then signs a new member in through the identity provider", async () => {
    await step("singleSignOn", async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByLabel("Email").fill(admin.email);
      await page.getByLabel("Password").fill(admin.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL(/\/(o|w)\//);
      await nav("Single sign-on").click();
      await page.getByRole("heading", { name: "Set up an identity provider" }).waitFor();
      await page.getByLabel("Issuer").fill(ssoIdp.issuer);
      await page.getByLabel("Client id").fill(ssoIdp.client.clientId);
      await page.getByLabel("Client secret").fill(ssoIdp.client.clientSecret);
      await page.getByLabel("Email domains").fill("sso.coffer.test");
      await page.getByRole("button", { name: "Save single sign-on" }).click();
      await page.getByText("Single sign-on saved").waitFor();
      // Saved: the secret is gone from the page, which says how members find it.
      expect(await page.getByLabel("Client secret").inputValue()).toBe("");
      await checkpoint("sso-settings", { screenshot: true });
      const slug = (await page.locator("code").first().textContent())!.trim();

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByRole("button", { name: "Use single sign-on" }).click();
      await page.getByLabel("Organization").fill(slug);
      await checkpoint("sign-in-sso", { screenshot: true });
      await page.getByRole("button", { name: "Continue with single sign-on" }).click();
      await consentAtProvider(ssoIdp, { login: "sam@sso.coffer.test", back: "/auth/sso/callback" });
      // Back from the provider: a new member, made just in time, in the organization.
      await page.waitForURL(new RegExp(`/o/${organizationId}$`));
      await page.getByText("You are not in any workspace of this organization yet").waitFor();
      await page.getByText("sam", { exact: true }).waitFor();
    });
  }, 60_000);

  it("changes a member's role, signs them out, removes them, and changes the admin's password", async () => {
    await step("manageMembers", async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByLabel("Email").fill(admin.email);
      await page.getByLabel("Password").fill(admin.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL(/\/(o|w)\//);
      await nav("Members").click();
      const sam = page.locator('tr[data-member="sam@sso.coffer.test"]');
      await sam.getByLabel("Role of sam@sso.coffer.test").selectOption("ADMIN");
      await page.getByText("sam@sso.coffer.test is now admin.").waitFor();
      await sam.getByRole("button", { name: "Sign out everywhere" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Sign out everywhere" }).click();
      await page.getByText("Signed sam@sso.coffer.test out of every console session.").waitFor();
      await checkpoint("members-manage", { screenshot: true });
      await sam.getByRole("button", { name: "Remove" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Remove member" }).click();
      await page.getByText("Removed sam@sso.coffer.test from the organization").waitFor();
      await hasCount(sam, 0);
      // The organization's log says each of it.
      const types = (
        await graphql(
          `
            query ($o: ID!, $f: AuditEventFilter) {
              auditEvents(organizationId: $o, first: 20, filter: $f) {
                edges {
                  node {
                    type
                  }
                }
              }
            }
          `,
          {
            o: btoa(`Organization:${organizationId}`),
            f: { types: ["OrgMemberRoleChanged", "OrgMemberSessionsEnded", "OrgMemberRemoved"] },
          },
          { cookie: adminCookie },
        )
      ).data.auditEvents.edges.map((e: { node: { type: string } }) => e.node.type);
      for (const type of ["OrgMemberRoleChanged", "OrgMemberSessionsEnded", "OrgMemberRemoved"])
        expect(types).toContain(type);

      await nav("Your account").click();
      const renewed = `pw-${randomBytes(12).toString("hex")}`;
      await page.getByLabel("Current password").fill("not the password");
      await page.getByLabel("New password", { exact: true }).fill(renewed);
      await page.getByLabel("Repeat the new password").fill(renewed);
      await page.getByRole("button", { name: "Change password" }).click();
      await page.getByText("The current password is incorrect").waitFor();
      await page.getByLabel("Current password").fill(admin.password);
      await page.getByRole("button", { name: "Change password" }).click();
      await page.getByText("Password changed. Your other sessions were signed out.").waitFor();
      admin.password = renewed;
    });
  }, 60_000);

  it("adds an organization member to the workspace, changes their role and removes them", async () => {
    await step("workspaceMembers", async () => {
      await page.goto(`${origin}/w/${workspaceId}/members`);
      await page.getByRole("heading", { name: "Workspace members" }).waitFor();
      await page
        .getByLabel("Organization member")
        .selectOption({ label: "Mia Member (member@coffer.test)" });
      await page.getByLabel("Workspace role").selectOption("VIEWER");
      await page.getByRole("button", { name: "Add to workspace" }).click();
      await page.getByText("Added member@coffer.test as viewer.").waitFor();
      const mia = page.locator('tr[data-workspace-member="member@coffer.test"]');
      await mia.getByLabel("Role of member@coffer.test").selectOption("EDITOR");
      await page.getByText("member@coffer.test is now editor here.").waitFor();
      await checkpoint("workspace-members", { screenshot: true });
      await mia.getByRole("button", { name: "Remove" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Remove from workspace" }).click();
      await page.getByText("Removed member@coffer.test from the workspace.").waitFor();
      await hasCount(mia, 0);
    });
  }, 60_000);

  it("adds a webhook (its signing key shown once), shows its delivery, and deletes it", async () => {
    const received: { signature: string | undefined }[] = [];
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received.push({ signature: req.headers["x-coffer-signature"] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      await step("webhooks", async () => {
        await page.goto(`${origin}/o/${organizationId}/webhooks`);
        await page.getByLabel("Receiver URL").fill("https://10.0.0.9/hook");
        await page.getByRole("button", { name: "Add webhook" }).click();
        // Refused at once, under the field: an internal address is never called.
        await page.getByText("points at 10.0.0.9, a private address (RFC 1918)").waitFor();
        await page.getByLabel("Receiver URL").fill(hookUrl);
        await page.getByRole("button", { name: "Add webhook" }).click();
        const key = await page.getByLabel("Signing key").inputValue();
        expect(key.length).toBeGreaterThan(20);
        await page.getByRole("button", { name: "I have stored it" }).click();
        await hasCount(page.getByLabel("Signing key"), 0);
        // The worker delivers the organization's log, signed.
        const deadline = Date.now() + 20_000;
        while (received.length === 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        expect(received[0]?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        await page.reload();
        const row = page.locator(`tr[data-webhook="${hookUrl}"]`);
        await lacksText(row, "nothing delivered yet");
        await hasText(row, "delivering");
        await checkpoint("webhooks", { screenshot: true });
        await row.getByRole("button", { name: "Delete" }).click();
        await page.getByRole("dialog").getByRole("button", { name: "Delete webhook" }).click();
        await page.getByText(`Deleted the webhook to ${hookUrl}.`).waitFor();
        await hasCount(row, 0);
      });
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 60_000);

  it("removes single sign-on after confirmation", async () => {
    await step("removeSso", async () => {
      await page.goto(`${origin}/o/${organizationId}/sso`);
      await page.getByRole("heading", { name: "Identity provider" }).waitFor();
      await page.getByRole("button", { name: "Remove single sign-on" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Remove single sign-on" }).click();
      await page
        .getByText("Single sign-on removed: members sign in with their passwords again.")
        .waitFor();
      await page.getByRole("heading", { name: "Set up an identity provider" }).waitFor();
    });
  }, 60_000);

  it("replaces a template's existing credential only when told, and never over a change made meanwhile", async () => {
    await step("replace", async () => {
      const configureSlack = async () => {
        await page.goto(`${origin}/w/${workspaceId}/credentials/new`);
        await page.getByRole("button", { name: "Configure Slack" }).click();
        await page.getByLabel("Environment").selectOption("default");
      };
      await configureSlack();
      await page.getByLabel("SLACK_BOT_TOKEN").fill(slackDefault[0]!);
      await page.getByRole("button", { name: "Save credential" }).click();
      await page.getByText("Saved slack in default (version 1)").waitFor();
      const secretId = btoa(`Secret:${new URL(page.url()).pathname.split("/").at(-1)}`);

      // Configuring it again shows what exists and needs an explicit replace.
      await configureSlack();
      await page.getByText("slack already exists in default").waitFor();
      const save = page.getByRole("button", { name: "Replace with version 2" });
      expect(await save.isDisabled()).toBe(true);
      await page.getByLabel("Replace slack in default").check();
      // (Before a value is typed: a page records what its fields hold.)
      await checkpoint("configure-replace", { screenshot: true });
      await page.getByLabel("SLACK_BOT_TOKEN").fill(slackDefault[1]!);
      // Meanwhile someone rotates it through the API.
      const { response } = await graphql(
        `
          mutation ($i: SignInInput!) {
            signIn(input: $i) {
              __typename
            }
          }
        `,
        { i: admin },
      );
      const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
      const rotated = await graphql(
        `
          mutation ($i: RotateSecretInput!) {
            rotateSecret(input: $i) {
              __typename
            }
          }
        `,
        { i: { id: secretId, values: [{ key: "SLACK_BOT_TOKEN", value: slackDefault[2]! }] } },
        { cookie },
      );
      expect(rotated.data.rotateSecret.__typename).toBe("MutationRotateSecretSuccess");
      await save.click();
      // Refused, not overwritten: the form shows the new state and asks again.
      await page.getByText("The secret changed meanwhile: it is at version 2, not 1").waitFor();
      await page.getByRole("button", { name: "Replace with version 3" }).waitFor();
      expect(await page.getByLabel("Replace slack in default").isChecked()).toBe(false);
      const resolved = await graphql(
        `
          query ($id: ID!) {
            secret(id: $id) {
              currentVersion
            }
          }
        `,
        { id: secretId },
        { cookie },
      );
      expect(resolved.data.secret.currentVersion).toBe(2);
      await page.getByLabel("Replace slack in default").check();
      await page.getByRole("button", { name: "Replace with version 3" }).click();
      await page.getByText("Saved slack in default (version 3)").waitFor();
    });
  }, 60_000);

  it("never put a stored value in a page or a response", async () => {
    await Promise.all(pending);
    expect(htmlSnapshots.length).toBeGreaterThan(10);
    expect(responses.length).toBeGreaterThan(50);
    for (const value of [...storedValues, idp.client.clientSecret, ssoIdp.client.clientSecret]) {
      expect(
        htmlSnapshots.filter((s) => s.html.includes(value)).map((s) => s.where),
        value,
      ).toEqual([]);
      expect(
        responses.filter((r) => r.body.includes(value)).map((r) => r.url),
        value,
      ).toEqual([]);
    }
  });
});
