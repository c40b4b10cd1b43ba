// How a platform (a workflow engine, an agent runtime) uses Coffer when it runs an action:
//   1. before the run, `checkSecrets`: which credentials each action needs, which are missing;
//   2. when the action runs, `resolveSecrets`: its arguments with the values substituted;
//   3. before logging anything the action printed, `redact` it with the values it received.
//
//   COFFER_URL=http://127.0.0.1:4000/graphql COFFER_TOKEN=coffer_pat_… npx tsx examples/platform-runner.ts
//
// The token is a workspace API token with the `secrets:resolve` permission (issueApiToken).
// The calls go through the typed client in client/cofferClient.ts (generated from schema.graphql).
import {
  createCofferClient,
  type CofferClientOptions,
  type SecretsCheck,
} from "../client/cofferClient.ts";
import { redact } from "../server/src/resolution/redact.ts";

export type Action = {
  ref: string;
  /** The action's environment override (seed 002), if any. */
  environment?: string;
  arguments: Record<string, unknown>;
};

/** Before the run: is every credential of every action there? */
export async function check(
  options: CofferClientOptions,
  workflow: { defaultEnvironment?: string; actions: Action[] },
): Promise<SecretsCheck[]> {
  return createCofferClient(options).check({
    defaultEnvironment: workflow.defaultEnvironment,
    actions: workflow.actions.map((a) => ({
      actionRef: a.ref,
      environment: a.environment,
      arguments: a.arguments,
    })),
  });
}

/** When the action runs: resolved arguments, plus what must be masked in its logs. */
export async function resolve(
  options: CofferClientOptions,
  workflow: { id: string; runId: string; defaultEnvironment?: string },
  action: Action,
) {
  const result = await createCofferClient(options).resolve({
    arguments: action.arguments,
    environment: action.environment,
    defaultEnvironment: workflow.defaultEnvironment,
    purpose: { workflowId: workflow.id, runId: workflow.runId, actionRef: action.ref },
  });
  // Every other member of the union is a typed error with a message and a code.
  if (result.__typename !== "MutationResolveSecretsSuccess")
    throw new Error(`${action.ref}: ${result.message}`);
  const { redactions } = result.data;
  return {
    arguments: result.data.arguments,
    mask: (text: string) => redact(text, redactions),
  };
}

async function main(): Promise<void> {
  const options = {
    endpoint: process.env.COFFER_URL ?? "http://127.0.0.1:4000/graphql",
    token: process.env.COFFER_TOKEN ?? "",
  };
  if (!options.token)
    throw new Error("Set COFFER_TOKEN to a workspace API token with secrets:resolve");
  const workflow = { id: "triage", runId: `run-${Date.now()}`, defaultEnvironment: "default" };
  const notify: Action = {
    ref: "notify",
    arguments: { channel: "#alerts", token: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}" },
  };

  for (const result of await check(options, { ...workflow, actions: [notify] })) {
    process.stdout.write(
      `${result.actionRef} (${result.environment}): ${result.ready ? "ready" : `missing ${result.missing.join(", ")}`}\n`,
    );
    if (!result.ready) return;
  }
  const { arguments: args, mask } = await resolve(options, workflow, notify);
  // The action would use `args` here; whatever it prints goes through `mask` first.
  process.stdout.write(`${mask(`calling Slack with ${JSON.stringify(args)}`)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
