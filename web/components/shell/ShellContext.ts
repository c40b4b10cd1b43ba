"use client";

import { createContext, useContext } from "react";
import type { ViewerData, ViewerOrganization } from "../../lib/operations.ts";

export type Shell = {
  viewer: ViewerData["viewer"];
  /** The organization the page belongs to (global id in `organization.id`). */
  organization: ViewerOrganization;
  /** Local uuid of the organization, as in `/o/<id>/…` addresses. */
  organizationId: string;
  /** Local uuid of the current workspace, when the page is a workspace page. */
  workspaceId: string | undefined;
  /** Reloads the viewer (after creating an environment, a workspace, …). */
  reload: () => void;
};

export const ShellContext = createContext<Shell | null>(null);

export function useShell(): Shell {
  const shell = useContext(ShellContext);
  if (!shell) throw new Error("useShell() outside <AppShell>");
  return shell;
}

export function isOrgAdmin(shell: Shell): boolean {
  return shell.organization.viewerRole === "OWNER" || shell.organization.viewerRole === "ADMIN";
}
