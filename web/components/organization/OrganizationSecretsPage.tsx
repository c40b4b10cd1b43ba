"use client";

import { useState } from "react";
import { toGlobalId, toLocalId } from "../../lib/ids.ts";
import { ORGANIZATION_SECRETS } from "../../lib/operations.ts";
import { usePaged } from "../../lib/usePaged.ts";
import { useFlash } from "../../lib/useFlash.ts";
import { CredentialsTable, byEnvironment } from "../credentials/CredentialsTable.tsx";
import { useShell } from "../shell/ShellContext.ts";
import { Button, ButtonLink } from "../ui/Button.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import ui from "../ui/ui.module.css";

export default function OrganizationSecretsPage() {
  const shell = useShell();
  const flash = useFlash();
  const [search, setSearch] = useState("");
  const secrets = usePaged(
    ORGANIZATION_SECRETS,
    {
      id: toGlobalId("Organization", shell.organizationId),
      filter: search.trim() ? { search: search.trim() } : {},
    },
    (d) => d.organization?.secrets,
  );
  const base = `/o/${shell.organizationId}/secrets`;

  if (secrets.error?.code === "FORBIDDEN")
    return (
      <>
        <PageHeader title="Organization secrets" />
        <Panel>
          <EmptyState title="You are not allowed to open organization secrets">
            Organization-level secrets are managed by organization owners and admins; your role in{" "}
            {shell.organization.name} is {shell.organization.viewerRole?.toLowerCase() ?? "none"}.
            Workspaces still resolve them in runs. Ask an owner or admin if you need to change one.
          </EmptyState>
        </Panel>
      </>
    );

  const list = secrets.nodes;
  return (
    <>
      <PageHeader
        title="Organization secrets"
        description={
          <>
            Credentials every workspace of <strong>{shell.organization.name}</strong> can resolve. A
            workspace credential of the same name and environment takes precedence (personal →
            workspace → organization).
          </>
        }
        actions={
          <ButtonLink href={`${base}/new`} variant="primary">
            Add organization secret
          </ButtonLink>
        }
      />
      <div className={ui.stack}>
        {flash ? <Notice tone={flash.tone} title={flash.title} details={flash.details} /> : null}
        <Panel>
          <form
            role="search"
            aria-label="Filter organization secrets"
            onSubmit={(e) => e.preventDefault()}
          >
            <TextField
              label="Search by name"
              type="search"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </form>
        </Panel>
        {secrets.error ? <QueryError error={secrets.error} retry={secrets.reload} /> : null}
        {!secrets.data && !secrets.error ? <Loading label="Loading organization secrets…" /> : null}
        {secrets.data && list.length === 0 ? (
          <Panel>
            <EmptyState
              title={
                search.trim() ? "No organization secret matches" : "No organization secrets yet"
              }
              action={
                search.trim() ? null : (
                  <ButtonLink href={`${base}/new`} variant="primary">
                    Add organization secret
                  </ButtonLink>
                )
              }
            >
              Use them for credentials every workspace shares, such as one AWS role per account
              environment.
            </EmptyState>
          </Panel>
        ) : null}
        {byEnvironment(list).map(([env, inEnv]) => (
          <Panel
            key={env}
            title={
              <>
                Environment <code className={ui.code}>{env}</code>
              </>
            }
            flush
          >
            <CredentialsTable
              caption={`Organization secrets in ${env}`}
              secrets={inEnv}
              hrefOf={(s) => `${base}/${toLocalId(s.id)}`}
            />
          </Panel>
        ))}
        {secrets.hasMore ? (
          <div>
            <Button onClick={secrets.loadMore} busy={secrets.loading}>
              Load more secrets
            </Button>
          </div>
        ) : null}
      </div>
    </>
  );
}
