"use client";

import { toGlobalId } from "../../lib/ids.ts";
import { ORGANIZATION_ENVIRONMENTS } from "../../lib/operations.ts";
import { useQuery } from "../../lib/useQuery.ts";
import CreateCredential from "../credentials/CreateCredential.tsx";
import { isOrgAdmin, useShell } from "../shell/ShellContext.ts";
import { EmptyState } from "../ui/EmptyState.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";

export default function NewOrganizationSecret() {
  const shell = useShell();
  const id = toGlobalId("Organization", shell.organizationId);
  const org = useQuery(ORGANIZATION_ENVIRONMENTS, { id });
  if (!isOrgAdmin(shell))
    return (
      <Panel>
        <EmptyState title="You are not allowed to add organization secrets">
          Organization-level secrets are managed by organization owners and admins.
        </EmptyState>
      </Panel>
    );
  if (org.error) return <QueryError error={org.error} retry={org.reload} />;
  if (!org.data?.organization) return <Loading />;
  const environments = [
    ...new Set([
      "default",
      ...org.data.organization.workspaces.edges.flatMap((e) =>
        e.node.environments.map((x) => x.name),
      ),
    ]),
  ].sort();
  const base = `/o/${shell.organizationId}/secrets`;
  return (
    <CreateCredential
      target={{ kind: "organization", organizationId: id, environments }}
      listHref={base}
      detailHref={(secretId) => `${base}/${secretId}`}
    />
  );
}
