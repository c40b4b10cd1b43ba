import { afterAll, beforeAll, expect, it } from "vitest";
import { check, resolve } from "../examples/platform-runner.ts";
import { asInput, secretOps } from "./testkit/secretOps.ts";
import { startTestApp, type TestApp } from "./testkit/testApp.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

it("the example platform runner checks, resolves and masks its output", async () => {
  const tenant = await t.createTenant();
  await secretOps(t).configure(tenant.session, {
    workspaceId: tenant.workspaceId,
    templateId: "slack",
    values: asInput({ SLACK_BOT_TOKEN: "xoxb-example-runner-token" }),
  });
  const token = (
    await t.issueToken(tenant.session, { workspaceId: tenant.workspaceId }, ["SECRETS_RESOLVE"])
  ).token;
  const options = {
    endpoint: "http://coffer.test/graphql",
    token,
    fetch: async (
      url: string,
      init: { method: string; headers: Record<string, string>; body: string },
    ) => t.app.yoga.fetch(url, init),
  };
  const action = {
    ref: "notify",
    arguments: {
      token: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}",
      missing: "${{ SECRETS.jira.JIRA_API_TOKEN }}",
    },
  };
  expect(await check(options, { actions: [action] })).toEqual([
    {
      actionRef: "notify",
      environment: "default",
      ready: false,
      missing: ["jira.JIRA_API_TOKEN"],
      hints: [],
    },
  ]);
  await expect(resolve(options, { id: "wf", runId: "r1" }, action)).rejects.toThrow(
    /credential_not_found: jira.JIRA_API_TOKEN/,
  );
  const ready = { ref: "notify", arguments: { token: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}" } };
  const { arguments: args, mask } = await resolve(options, { id: "wf", runId: "r2" }, ready);
  expect(args).toEqual({ token: "xoxb-example-runner-token" });
  expect(mask(`sent with ${JSON.stringify(args)}`)).toBe('sent with {"token":"***"}');
});
