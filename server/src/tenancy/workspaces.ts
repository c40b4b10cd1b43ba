import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import type { Tx } from "../db/database.ts";
import { requireOrgAccess, requirePermission, requireWorkspaceAccess } from "../authz/access.ts";
import { SLUG, slugify } from "../domain/names.ts";
import type { WorkspaceRole } from "../domain/roles.ts";
import { workspaceDecider, type WorkspaceCommand } from "../domain/workspace/decide.ts";
import { workspaceStream } from "../domain/workspace/events.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { executeCommand, inTransaction } from "../eventstore/executeCommand.ts";
import { parseInput } from "./parseInput.ts";
import { projectWorkspace } from "./projections.ts";

const createWorkspaceInput = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100, "at most 100 characters"),
  slug: z
    .string()
    .regex(SLUG, "lowercase letters, digits and '-', at most 63 characters")
    .optional(),
});

export function workspaceService(deps: CoreDeps) {
  const run = (
    tx: Tx,
    caller: Caller,
    organizationId: string,
    workspaceId: string,
    command: WorkspaceCommand,
  ) =>
    executeCommand(tx, {
      streamId: workspaceStream(workspaceId),
      organizationId,
      decider: workspaceDecider,
      command,
      metadata: caller.metadata,
      now: deps.clock(),
      project: projectWorkspace(workspaceId),
    });

  /** Workspace-admin commands share one shape: resolve, authorize, run. */
  const asWorkspaceAdmin = (
    caller: Caller,
    workspaceId: string,
    what: string,
    command: (tx: Tx) => Promise<WorkspaceCommand>,
  ) =>
    inTransaction(deps.db, async (tx) => {
      const access = await requireWorkspaceAccess(tx, caller.actor, workspaceId);
      requirePermission(access, "admin", what);
      return run(tx, caller, access.organizationId, workspaceId, await command(tx));
    });

  return {
    /** New workspaces get the `default` environment and a random AWS external id (seed 001). */
    async create(
      caller: Caller,
      organizationId: string,
      raw: { name: string; slug?: string | null | undefined },
    ) {
      const input = parseInput(createWorkspaceInput, {
        name: raw.name,
        slug: raw.slug ?? undefined,
      });
      const workspaceId = deps.newId();
      await inTransaction(deps.db, async (tx) => {
        const access = await requireOrgAccess(tx, caller.actor, organizationId);
        requirePermission(access, "admin", "Creating workspaces");
        await run(tx, caller, organizationId, workspaceId, {
          type: "CreateWorkspace",
          workspaceId,
          organizationId,
          name: input.name,
          slug: input.slug ?? (slugify(input.name) || "workspace"),
          awsExternalId: newAwsExternalId(),
          defaultEnvironmentId: deps.newId(),
        });
      });
      return workspaceId;
    },

    async declareEnvironment(caller: Caller, workspaceId: string, name: string) {
      const environmentId = deps.newId();
      await asWorkspaceAdmin(caller, workspaceId, "Declaring environments", async () => ({
        type: "DeclareEnvironment",
        environmentId,
        name,
      }));
      return environmentId;
    },

    async deleteEnvironment(caller: Caller, workspaceId: string, name: string) {
      await asWorkspaceAdmin(caller, workspaceId, "Deleting environments", async () => ({
        type: "DeleteEnvironment",
        name,
      }));
    },

    async addMember(caller: Caller, workspaceId: string, userId: string, role: WorkspaceRole) {
      await asWorkspaceAdmin(caller, workspaceId, "Adding workspace members", async (tx) => {
        // Only members of the workspace's organization can join it.
        const member = await tx.orgMember.findFirst({
          where: { userId, organization: { workspaces: { some: { id: workspaceId } } } },
          select: { userId: true },
        });
        if (!member) throw new NotFoundError("User");
        return { type: "AddWorkspaceMember", userId, role };
      });
    },

    async changeMemberRole(
      caller: Caller,
      workspaceId: string,
      userId: string,
      role: WorkspaceRole,
    ) {
      await asWorkspaceAdmin(caller, workspaceId, "Changing workspace roles", async () => ({
        type: "ChangeWorkspaceMemberRole",
        userId,
        role,
      }));
    },

    /**
     * A new AWS external id: roles whose trust policy requires the old one stop being
     * assumable until the customer updates the policy (the point of rotating it).
     */
    async rotateAwsExternalId(caller: Caller, workspaceId: string) {
      await asWorkspaceAdmin(caller, workspaceId, "Rotating the AWS external id", async () => ({
        type: "RotateAwsExternalId",
        awsExternalId: newAwsExternalId(),
      }));
    },

    async removeMember(caller: Caller, workspaceId: string, userId: string) {
      await asWorkspaceAdmin(caller, workspaceId, "Removing workspace members", async () => ({
        type: "RemoveWorkspaceMember",
        userId,
      }));
    },
  };
}

/** 32 URL-safe characters: within STS's ExternalId limits (2–1224, [\w+=,.@:/-]). */
export function newAwsExternalId(): string {
  return randomBytes(24).toString("base64url");
}
