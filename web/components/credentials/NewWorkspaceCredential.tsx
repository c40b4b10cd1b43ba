"use client";

import { toGlobalId } from "../../lib/ids.ts";
import { WORKSPACE } from "../../lib/operations.ts";
import { useQuery } from "../../lib/useQuery.ts";
import { useShell } from "../shell/ShellContext.ts";
import { Loading } from "../ui/Loading.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import CreateCredential from "./CreateCredential.tsx";

export default function NewWorkspaceCredential() {
  const { workspaceId } = useShell();
  const workspace = useQuery(WORKSPACE, { id: toGlobalId("Workspace", workspaceId!) });
  if (workspace.error) return <QueryError error={workspace.error} retry={workspace.reload} />;
  const ws = workspace.data?.workspace;
  if (!ws) return <Loading label="Loading the workspace…" />;
  const base = `/w/${workspaceId}`;
  return (
    <CreateCredential
      target={{
        kind: "workspace",
        workspaceId: ws.id,
        environments: ws.environments.map((e) => e.name),
      }}
      listHref={`${base}/credentials`}
      detailHref={(id) => `${base}/credentials/${id}`}
      environmentsHref={`${base}/environments`}
    />
  );
}
