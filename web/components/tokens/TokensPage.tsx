"use client";

import { useState, type FormEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { PERMISSION_LABELS } from "../../lib/format.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  ISSUE_API_TOKEN,
  ORGANIZATION_TOKENS,
  REVOKE_API_TOKEN,
  WORKSPACE_TOKENS,
  type ApiToken,
  type Permission,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { sentence, splitIssues } from "../credentials/issues.ts";
import { isOrgAdmin, useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { Checkbox, SelectField, TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { ShownOnce } from "../ui/ShownOnce.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";

type Token = Required<ApiToken>;
const ORGANIZATION = "organization";

export default function TokensPage() {
  const shell = useShell();
  const orgId = toGlobalId("Organization", shell.organizationId);
  const admin = isOrgAdmin(shell);
  const workspaces = shell.organization.workspaces.edges.map((e) => e.node);
  const [issued, setIssued] = useState<{ name: string; token: string } | null>(null);
  const [message, setMessage] = useState<string>();
  // Bumped after issuing or revoking, so every list reloads.
  const [generation, setGeneration] = useState(0);

  // Organization admins issue organization-wide tokens and administer every workspace; for
  // others the server refuses what they may not do, and says so.
  const targets = [
    ...(admin
      ? [{ value: ORGANIZATION, label: `Whole organization (${shell.organization.name})` }]
      : []),
    ...workspaces.map((w) => ({ value: w.id, label: `Workspace ${w.name}` })),
  ];

  return (
    <>
      <PageHeader
        title="API tokens"
        description="Platforms (workflow engines, runners, agents) call Coffer with a bearer token. Coffer keeps only its SHA-256: a token is shown once, when it is issued."
      />
      <div className={ui.stack}>
        {message ? <Notice tone="success">{message}</Notice> : null}
        {issued ? (
          <ShownOnce
            title={`Token ${issued.name} issued`}
            warning="Copy it now: it will not be shown again"
            id="issued-token"
            label="Token"
            value={issued.token}
            copyLabel="Copy token"
            onDone={() => setIssued(null)}
          >
            Coffer stores only a hash of it. If it is lost, revoke it and issue a new one.
          </ShownOnce>
        ) : targets.length ? (
          <IssueForm
            targets={targets}
            organizationId={orgId}
            onIssued={(value) => {
              setMessage(undefined);
              setIssued(value);
              setGeneration((g) => g + 1);
            }}
          />
        ) : (
          <Notice>
            Only organization admins and workspace admins issue tokens. Ask one if a platform needs
            access.
          </Notice>
        )}
        {admin ? (
          <OrganizationTokens
            key={`org-${generation}`}
            organizationId={orgId}
            onRevoked={(name) => {
              setMessage(`Revoked ${name}. Requests carrying it are refused from now on.`);
              setGeneration((g) => g + 1);
            }}
          />
        ) : null}
        {workspaces.map((w) => (
          <WorkspaceTokens
            key={`${w.id}-${generation}`}
            workspaceId={w.id}
            onRevoked={(name) => {
              setMessage(`Revoked ${name}. Requests carrying it are refused from now on.`);
              setGeneration((g) => g + 1);
            }}
          />
        ))}
      </div>
    </>
  );
}

function OrganizationTokens({
  organizationId,
  onRevoked,
}: {
  organizationId: string;
  onRevoked: (name: string) => void;
}) {
  const query = useQuery(ORGANIZATION_TOKENS, { id: organizationId });
  const tokens = query.data?.organization?.apiTokens.edges.map((e) => e.node);
  return (
    <Panel
      title="Organization-wide tokens"
      description="Valid in every workspace of the organization."
      flush
    >
      {query.error ? <QueryError error={query.error} retry={query.reload} /> : null}
      {tokens ? (
        <TokenTable caption="Organization-wide tokens" tokens={tokens} onRevoked={onRevoked} />
      ) : null}
      {!tokens && !query.error ? <Loading label="Loading tokens…" /> : null}
    </Panel>
  );
}

function WorkspaceTokens({
  workspaceId,
  onRevoked,
}: {
  workspaceId: string;
  onRevoked: (name: string) => void;
}) {
  const query = useQuery(WORKSPACE_TOKENS, { id: workspaceId });
  const ws = query.data?.workspace;
  if (ws && !ws.viewerPermissions.includes("ADMIN")) return null;
  return (
    <Panel title={`Workspace ${ws?.name ?? ""}`} description="Valid in this workspace only." flush>
      {query.error ? <QueryError error={query.error} retry={query.reload} /> : null}
      {ws ? (
        <TokenTable
          caption={`Tokens of workspace ${ws.name}`}
          tokens={ws.apiTokens.edges.map((e) => e.node)}
          onRevoked={onRevoked}
        />
      ) : null}
      {!ws && !query.error ? <Loading label="Loading tokens…" /> : null}
    </Panel>
  );
}

function TokenTable({
  caption,
  tokens,
  onRevoked,
}: {
  caption: string;
  tokens: Token[];
  onRevoked: (name: string) => void;
}) {
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function revoke() {
    if (!revoking) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap((await request(REVOKE_API_TOKEN, { id: revoking.id })).revokeApiToken);
      if (!result.ok) setError(result.error.message);
      else {
        setRevoking(null);
        onRevoked(revoking.name);
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }

  if (tokens.length === 0)
    return (
      <EmptyState title="No tokens yet">Issue one above when a platform needs access.</EmptyState>
    );
  return (
    <>
      <DataTable
        caption={caption}
        columns={["Name", "Permissions", "Status", "Created", "Last used", "Expires"]}
        unlabelledColumn="Actions"
      >
        {tokens.map((t) => (
          <tr key={t.id} data-token={t.name}>
            <td>
              <strong>{t.name}</strong>
              <div>
                <code className={ui.code}>{t.prefix}…</code>
              </div>
            </td>
            <td>
              <span className={ui.chips}>
                {t.permissions.map((p) => (
                  <code key={p} className={ui.chip}>
                    {PERMISSION_LABELS[p].name}
                  </code>
                ))}
              </span>
            </td>
            <td>
              <Badge
                tone={
                  t.status === "ACTIVE" ? "success" : t.status === "REVOKED" ? "danger" : "warning"
                }
              >
                {t.status.toLowerCase()}
              </Badge>
            </td>
            <td>
              <Time iso={t.createdAt} />
            </td>
            <td>
              <Time iso={t.lastUsedAt} fallback="Never" />
            </td>
            <td>
              <Time iso={t.expiresAt} fallback="Never" />
            </td>
            <td style={{ textAlign: "right" }}>
              {t.status === "ACTIVE" ? (
                <Button small variant="dangerOutline" onClick={() => setRevoking(t)}>
                  Revoke <span className="visually-hidden">{t.name}</span>
                </Button>
              ) : null}
            </td>
          </tr>
        ))}
      </DataTable>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke token"
        tone="danger"
        busy={busy}
        error={error}
        onCancel={() => {
          setRevoking(null);
          setError(undefined);
        }}
        onConfirm={revoke}
      >
        <p style={{ margin: 0 }}>
          Platforms using it are refused at once. This cannot be undone: issue a new token instead.
        </p>
      </ConfirmDialog>
    </>
  );
}

const ALL_PERMISSIONS = Object.keys(PERMISSION_LABELS) as Permission[];

function IssueForm({
  targets,
  organizationId,
  onIssued,
}: {
  targets: { value: string; label: string }[];
  organizationId: string;
  onIssued: (issued: { name: string; token: string }) => void;
}) {
  const [name, setName] = useState("");
  const [target, setTarget] = useState(targets[0]!.value);
  const [permissions, setPermissions] = useState<Set<Permission>>(
    new Set(["SECRETS_READ", "SECRETS_RESOLVE"]),
  );
  // 90 days unless the admin chooses otherwise (clearing the date means never).
  const [expires, setExpires] = useState(() =>
    new Date(Date.now() + 90 * 24 * 3600_000).toISOString().slice(0, 10),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { issueApiToken } = await request(ISSUE_API_TOKEN, {
        input: {
          name: name.trim(),
          permissions: ALL_PERMISSIONS.filter((p) => permissions.has(p)),
          ...(target === ORGANIZATION ? { organizationId } : { workspaceId: target }),
          ...(expires ? { expiresAt: new Date(`${expires}T23:59:59Z`).toISOString() } : {}),
        },
      });
      const result = unwrap(issueApiToken);
      if (!result.ok) setError(result.error);
      else {
        setName("");
        onIssued({ name: result.data.apiToken.name, token: result.data.token });
      }
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
    }
    setBusy(false);
  }

  return (
    <Panel title="Issue a token" description="Give it only the permissions the platform needs.">
      <form onSubmit={onSubmit} aria-label="Issue a token" noValidate>
        <div className={ui.stack}>
          {error && (general.length || !error.issues?.length) ? (
            <Notice
              tone="danger"
              title="No token was issued"
              details={(general.length ? general : [error.message]).map(sentence)}
            />
          ) : null}
          <div className={ui.row}>
            <div style={{ flex: "1 1 14rem" }}>
              <TextField
                label="Name"
                requiredMark
                value={name}
                onChange={(e) => setName(e.target.value)}
                placeholder="e.g. ci-runner"
                error={fields.name}
                autoComplete="off"
              />
            </div>
            <div style={{ flex: "1 1 16rem" }}>
              <SelectField label="Scope" value={target} onChange={(e) => setTarget(e.target.value)}>
                {targets.map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.label}
                  </option>
                ))}
              </SelectField>
            </div>
            <div style={{ flex: "0 1 12rem" }}>
              <TextField
                label="Expires on"
                optionalMark
                hint="90 days by default; clear it for a token that never expires"
                type="date"
                value={expires}
                onChange={(e) => setExpires(e.target.value)}
                error={fields.expiresAt}
              />
            </div>
          </div>
          <fieldset className={ui.fieldset}>
            <legend className={ui.label}>Permissions</legend>
            <div className={ui.checkboxGrid}>
              {ALL_PERMISSIONS.map((p) => (
                <Checkbox
                  key={p}
                  label={<code>{PERMISSION_LABELS[p].name}</code>}
                  hint={PERMISSION_LABELS[p].help}
                  checked={permissions.has(p)}
                  onChange={(e) =>
                    setPermissions((current) => {
                      const next = new Set(current);
                      if (e.target.checked) next.add(p);
                      else next.delete(p);
                      return next;
                    })
                  }
                />
              ))}
            </div>
            {fields.permissions ? <p className={ui.error}>{fields.permissions}</p> : null}
          </fieldset>
          <div>
            <Button type="submit" variant="primary" busy={busy}>
              {busy ? "Issuing…" : "Issue token"}
            </Button>
          </div>
        </div>
      </form>
    </Panel>
  );
}
