"use client";

import Link from "next/link";
import { toLocalId } from "../../lib/ids.ts";
import { useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import ui from "../ui/ui.module.css";

export default function OrganizationOverview() {
  const shell = useShell();
  const org = shell.organization;
  const workspaces = org.workspaces.edges.map((e) => e.node);
  return (
    <>
      <PageHeader
        title={org.name}
        description={
          <>
            Your role: <Badge tone="accent">{org.viewerRole ?? "none"}</Badge>
          </>
        }
      />
      <div className={ui.stack}>
        <Panel
          title="Workspaces"
          description="Each workspace has its own credentials, environments and OAuth connections."
          flush
        >
          {workspaces.length === 0 ? (
            <EmptyState title="You are not in any workspace of this organization yet">
              An owner or admin can add you to a workspace. Organization-level pages remain
              available from the navigation on the left.
            </EmptyState>
          ) : (
            <DataTable caption="Workspaces" columns={["Workspace", "Slug"]}>
              {workspaces.map((w) => (
                <tr key={w.id}>
                  <td>
                    <Link href={`/w/${toLocalId(w.id)}/credentials`}>{w.name}</Link>
                  </td>
                  <td>
                    <code className={ui.code}>{w.slug}</code>
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </Panel>
      </div>
    </>
  );
}
