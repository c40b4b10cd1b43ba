"use client";

import { useState } from "react";
import { toGlobalId, toLocalId } from "../../lib/ids.ts";
import {
  WORKSPACE,
  WORKSPACE_SECRETS,
  type SecretFilter,
  type SecretScope,
  type SecretType,
} from "../../lib/operations.ts";
import { usePaged } from "../../lib/usePaged.ts";
import { useQuery } from "../../lib/useQuery.ts";
import { useFlash } from "../../lib/useFlash.ts";
import { SECRET_TYPE_LABELS } from "../../lib/format.ts";
import { useShell } from "../shell/ShellContext.ts";
import { Button, ButtonLink } from "../ui/Button.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { SelectField, TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import ui from "../ui/ui.module.css";
import { CredentialsTable, byEnvironment } from "./CredentialsTable.tsx";

const SCOPE_CHOICES: Record<string, { label: string; scopes: SecretScope[] }> = {
  mine: { label: "Workspace and my personal", scopes: ["WORKSPACE", "PERSONAL"] },
  workspace: { label: "Workspace only", scopes: ["WORKSPACE"] },
  personal: { label: "My personal only", scopes: ["PERSONAL"] },
  all: {
    label: "Also inherited from the organization",
    scopes: ["WORKSPACE", "PERSONAL", "ORGANIZATION"],
  },
};

export default function CredentialsPage() {
  const shell = useShell();
  const workspaceId = shell.workspaceId!;
  const id = toGlobalId("Workspace", workspaceId);
  const flash = useFlash();
  const [search, setSearch] = useState("");
  const [environment, setEnvironment] = useState("");
  const [scope, setScope] = useState("mine");
  const [type, setType] = useState("");

  const workspace = useQuery(WORKSPACE, { id });
  const filter: SecretFilter = {
    scopes: SCOPE_CHOICES[scope]!.scopes,
    ...(search.trim() ? { search: search.trim() } : {}),
    ...(environment ? { environment } : {}),
    ...(type ? { type: type as SecretType } : {}),
  };
  const secrets = usePaged(WORKSPACE_SECRETS, { id, filter }, (d) => d.workspace?.secrets);
  const ws = workspace.data?.workspace;
  const canWrite = ws?.viewerPermissions.includes("SECRETS_WRITE") ?? false;
  const list = secrets.nodes;
  const filtered = Boolean(search.trim() || environment || type || scope !== "mine");

  return (
    <>
      <PageHeader
        title="Credentials"
        description={
          <>
            Secrets that actions in <strong>{ws?.name ?? "this workspace"}</strong> reference as{" "}
            <code>{"${{ SECRETS.<name>.<KEY> }}"}</code>. Values are write-only: once saved, nobody
            can read them here.
          </>
        }
        actions={
          canWrite ? (
            <ButtonLink href={`/w/${workspaceId}/credentials/new`} variant="primary">
              Add credential
            </ButtonLink>
          ) : null
        }
      />
      <div className={ui.stack}>
        {flash ? <Notice tone={flash.tone} title={flash.title} details={flash.details} /> : null}
        <Panel>
          <form
            className={ui.filters}
            role="search"
            aria-label="Filter credentials"
            onSubmit={(e) => e.preventDefault()}
          >
            <div>
              <TextField
                label="Search by name"
                type="search"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
                placeholder="e.g. slack"
              />
            </div>
            <div>
              <SelectField
                label="Environment"
                value={environment}
                onChange={(e) => setEnvironment(e.target.value)}
              >
                <option value="">All environments</option>
                {ws?.environments.map((env) => (
                  <option key={env.id} value={env.name}>
                    {env.name}
                  </option>
                ))}
              </SelectField>
            </div>
            <div>
              <SelectField label="Scope" value={scope} onChange={(e) => setScope(e.target.value)}>
                {Object.entries(SCOPE_CHOICES).map(([value, choice]) => (
                  <option key={value} value={value}>
                    {choice.label}
                  </option>
                ))}
              </SelectField>
            </div>
            <div>
              <SelectField label="Type" value={type} onChange={(e) => setType(e.target.value)}>
                <option value="">All types</option>
                {Object.entries(SECRET_TYPE_LABELS).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </SelectField>
            </div>
          </form>
        </Panel>
        {secrets.error ? <QueryError error={secrets.error} retry={secrets.reload} /> : null}
        {!secrets.data && !secrets.error ? <Loading label="Loading credentials…" /> : null}
        {secrets.data && list.length === 0 ? (
          <Panel>
            {filtered ? (
              <EmptyState title="No credentials match these filters">
                Clear the search or pick another environment, scope or type.
              </EmptyState>
            ) : (
              <EmptyState
                title="No credentials yet"
                action={
                  canWrite ? (
                    <ButtonLink href={`/w/${workspaceId}/credentials/new`} variant="primary">
                      Add your first credential
                    </ButtonLink>
                  ) : null
                }
              >
                Start from a prebuilt credential such as Slack or AWS (the name and keys are filled
                in for you), or create a custom one, an SSH key or a certificate.
              </EmptyState>
            )}
          </Panel>
        ) : null}
        {byEnvironment(list).map(([env, secretsInEnv]) => (
          <Panel
            key={env}
            id={`environment-${env}`}
            title={
              <>
                Environment <code className={ui.code}>{env}</code>
              </>
            }
            description={`${secretsInEnv.length} credential${secretsInEnv.length === 1 ? "" : "s"}`}
            flush
          >
            <CredentialsTable
              caption={`Credentials in ${env}`}
              secrets={secretsInEnv}
              hrefOf={(s) =>
                s.scope === "ORGANIZATION"
                  ? `/o/${shell.organizationId}/secrets/${toLocalId(s.id)}`
                  : `/w/${workspaceId}/credentials/${toLocalId(s.id)}`
              }
            />
          </Panel>
        ))}
        {secrets.hasMore ? (
          <div>
            <Button onClick={secrets.loadMore} busy={secrets.loading}>
              Load more credentials
            </Button>
          </div>
        ) : null}
      </div>
    </>
  );
}
