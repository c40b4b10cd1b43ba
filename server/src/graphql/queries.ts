import { resolveCursorConnection, type ResolveCursorConnectionArgs } from "@pothos/plugin-relay";
import {
  loadOrgAccess,
  loadWorkspaceAccess,
  requireOrgAccess,
  requirePermission,
} from "../authz/access.ts";
import { readOrganizationEvents } from "../eventstore/read.ts";
import { verifyChain } from "../eventstore/verifyChain.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { builder } from "./builder.ts";
import { COMMAND_ERRORS } from "./errors.ts";
import { localId, tryLocalId } from "./globalId.ts";
import { AuditEventRef, ChainVerificationRef } from "./types/AuditEvent.ts";
import { OrganizationRef } from "./types/Organization.ts";
import { ViewerRef } from "./types/Viewer.ts";
import { WorkspaceRef } from "./types/Workspace.ts";

const AuditEventFilter = builder.inputType("AuditEventFilter", {
  fields: (t) => ({
    types: t.stringList({ required: false }),
    streamId: t.string({ required: false }),
    actorId: t.string({ required: false }),
    since: t.field({ type: "DateTime", required: false }),
    until: t.field({ type: "DateTime", required: false }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.actor!,
  }),
  organization: t.field({
    type: OrganizationRef,
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = tryLocalId(args.id, "Organization");
      return id && (await loadOrgAccess(ctx.db, ctx.actor!, id))
        ? ctx.db.organization.findUnique({ where: { id } })
        : null;
    },
  }),
  workspace: t.field({
    type: WorkspaceRef,
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = tryLocalId(args.id, "Workspace");
      if (!id) return null;
      return (await loadWorkspaceAccess(ctx.db, ctx.actor!, id))
        ? ctx.db.workspace.findUnique({ where: { id } })
        : null;
    },
  }),
  auditEvents: t.connection({
    type: AuditEventRef,
    description: "An organization's audit log, oldest first; needs `audit:read`",
    authScopes: { authenticated: true },
    args: {
      organizationId: t.arg.id(),
      filter: t.arg({ type: AuditEventFilter, required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const organizationId = localId(args.organizationId, "Organization");
      const access = await requireOrgAccess(ctx.db, ctx.actor!, organizationId);
      requirePermission(access, "audit:read", "Reading the audit log");
      const filter = args.filter;
      return resolveCursorConnection(
        { args, toCursor: (e) => e.position.toString(), defaultSize: 50, maxSize: 500 },
        async ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) => {
          if (inverted || before)
            throw new ValidationError("The audit log pages forwards only: use first/after");
          return readOrganizationEvents(
            ctx.db,
            organizationId,
            {
              afterPosition: after ? parsePosition(after) : undefined,
              types: filter?.types ?? undefined,
              streamId: filter?.streamId ?? undefined,
              actorId: filter?.actorId ?? undefined,
              since: filter?.since ?? undefined,
              until: filter?.until ?? undefined,
            },
            limit,
          );
        },
      );
    },
  }),
  verifyAuditChain: t.field({
    type: ChainVerificationRef,
    description: "Recomputes the organization's hash chain; needs `audit:read`",
    authScopes: { authenticated: true },
    errors: { types: COMMAND_ERRORS },
    args: { organizationId: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const organizationId = localId(args.organizationId, "Organization");
      const access = await requireOrgAccess(ctx.db, ctx.actor!, organizationId);
      requirePermission(access, "audit:read", "Verifying the audit log");
      const result = await verifyChain(ctx.db, organizationId);
      return result.ok
        ? {
            ok: true,
            eventCount: result.eventCount,
            headHash: result.headHash,
            firstBadPosition: null,
            reason: null,
          }
        : {
            ok: false,
            eventCount: result.eventCount,
            headHash: null,
            firstBadPosition: result.firstBadPosition,
            reason: result.reason,
          };
    },
  }),
}));

function parsePosition(cursor: string): bigint {
  if (!/^\d{1,19}$/.test(cursor)) throw new ValidationError("Invalid cursor");
  return BigInt(cursor);
}
