import type { CoreDeps } from "../CoreDeps.ts";
import { organizationKeyName, type Transit } from "../transit/Transit.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import { executeCommand, inTransaction } from "../eventstore/executeCommand.ts";
import { organizationDecider } from "../domain/organization/decide.ts";
import { organizationStream } from "../domain/organization/events.ts";
import { workspaceDecider } from "../domain/workspace/decide.ts";
import { workspaceStream } from "../domain/workspace/events.ts";
import { slugify } from "../domain/names.ts";
import { generatePassword } from "../auth/passwords.ts";
import { projectOrganization, projectWorkspace } from "../tenancy/projections.ts";
import { registerUser } from "../tenancy/users.ts";
import { newAwsExternalId } from "../tenancy/workspaces.ts";

export type FirstRunResult = {
  email: string;
  password: string | null;
  organization: string;
  workspace: string;
};

/**
 * When the database has no user yet, creates the owner, an organization and a workspace
 * in one transaction (a crash leaves either all or nothing). The password comes from
 * configuration or is generated and returned once so the caller can print it.
 */
export async function ensureFirstRun(
  deps: CoreDeps & { transit: Transit },
  options: {
    email: string | undefined;
    password: string | undefined;
    orgName: string;
    workspaceName: string;
  },
): Promise<FirstRunResult | null> {
  if ((await deps.db.user.count()) > 0) return null;
  const email = options.email ?? "admin@coffer.local";
  const password = options.password ?? generatePassword();
  const userId = deps.newId();
  const organizationId = deps.newId();
  const workspaceId = deps.newId();
  const metadata: EventMetadata = { actor: { kind: "system", id: "first-run" } };
  await deps.transit.createKey(organizationKeyName(organizationId));
  const now = deps.clock();
  await inTransaction(deps.db, async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('coffer-first-run', 0))`;
    if ((await tx.user.count()) > 0) return;
    await registerUser(tx, { userId, email, name: "Administrator", password, metadata, now });
    await executeCommand(tx, {
      streamId: organizationStream(organizationId),
      organizationId,
      decider: organizationDecider,
      command: {
        type: "CreateOrganization",
        organizationId,
        name: options.orgName,
        slug: slugify(options.orgName) || "org",
        ownerUserId: userId,
      },
      metadata,
      now,
      project: projectOrganization(organizationId),
    });
    await executeCommand(tx, {
      streamId: workspaceStream(workspaceId),
      organizationId,
      decider: workspaceDecider,
      command: {
        type: "CreateWorkspace",
        workspaceId,
        organizationId,
        name: options.workspaceName,
        slug: slugify(options.workspaceName) || "workspace",
        awsExternalId: newAwsExternalId(),
        defaultEnvironmentId: deps.newId(),
      },
      metadata,
      now,
      project: projectWorkspace(workspaceId),
    });
  });
  return {
    email,
    password: options.password ? null : password,
    organization: options.orgName,
    workspace: options.workspaceName,
  };
}
