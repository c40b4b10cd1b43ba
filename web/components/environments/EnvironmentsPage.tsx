"use client";

import { useState, type FormEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import { DECLARE_ENVIRONMENT, DELETE_ENVIRONMENT, WORKSPACE } from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { splitIssues, sentence } from "../credentials/issues.ts";
import { useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";

export default function EnvironmentsPage() {
  const shell = useShell();
  const id = toGlobalId("Workspace", shell.workspaceId!);
  const workspace = useQuery(WORKSPACE, { id });
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [message, setMessage] = useState<string>();
  const [deleting, setDeleting] = useState<string | null>(null);
  const [deleteError, setDeleteError] = useState<string>();

  const ws = workspace.data?.workspace;
  const canAdmin = ws?.viewerPermissions.includes("ADMIN") ?? false;
  const { fields, general } = splitIssues(error);

  async function declare(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    try {
      const { declareEnvironment } = await request(DECLARE_ENVIRONMENT, {
        input: { workspaceId: id, name: name.trim() },
      });
      const result = unwrap(declareEnvironment);
      if (!result.ok) setError(result.error);
      else {
        setMessage(`Declared ${result.data.name}. Credentials can now be stored in it.`);
        setName("");
        workspace.reload();
      }
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
    }
    setBusy(false);
  }

  async function remove() {
    if (!deleting) return;
    setBusy(true);
    setDeleteError(undefined);
    try {
      const { deleteEnvironment } = await request(DELETE_ENVIRONMENT, {
        input: { workspaceId: id, name: deleting },
      });
      const result = unwrap(deleteEnvironment);
      if (!result.ok) setDeleteError(result.error.message);
      else {
        setMessage(`Deleted the environment ${deleting}.`);
        setDeleting(null);
        workspace.reload();
      }
    } catch (caught) {
      setDeleteError(toRequestError(caught).message);
    }
    setBusy(false);
  }

  return (
    <>
      <PageHeader
        title="Environments"
        description={
          <>
            The same credential name can hold different values per environment: <code>slack</code>{" "}
            in <code>default</code> for one Slack app, in <code>customer_acme</code> for another. A
            run uses the action&apos;s environment, else the workflow&apos;s, else{" "}
            <code>default</code>.
          </>
        }
      />
      <div className={ui.stack}>
        {message ? <Notice tone="success">{message}</Notice> : null}
        {workspace.error ? <QueryError error={workspace.error} retry={workspace.reload} /> : null}
        {canAdmin ? (
          <Panel
            title="Declare an environment"
            description="Only declared environments accept credentials, so a typo cannot silently create a new one."
          >
            <form className={ui.row} onSubmit={declare} aria-label="Declare an environment">
              <div style={{ flex: "1 1 18rem" }}>
                <TextField
                  label="Environment name"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  placeholder="e.g. staging, customer_acme or 123456789012"
                  hint="Letters, digits, '_', '.' and '-', starting with a letter or digit (at most 64)."
                  error={fields.name ?? fields.environment}
                  autoComplete="off"
                  spellCheck={false}
                  required
                />
              </div>
              <div style={{ alignSelf: "flex-start", marginTop: "1.6rem" }}>
                <Button type="submit" variant="primary" busy={busy} disabled={!name.trim()}>
                  Declare
                </Button>
              </div>
            </form>
            {general.length ? (
              <div style={{ marginTop: "0.75rem" }}>
                <Notice tone="danger" details={general.map(sentence)} title="Not declared" />
              </div>
            ) : null}
          </Panel>
        ) : ws ? (
          <Notice>Only workspace admins declare and delete environments.</Notice>
        ) : null}
        <Panel title="Declared environments" flush>
          {!ws ? (
            <Loading label="Loading environments…" />
          ) : (
            <DataTable
              caption="Declared environments"
              columns={["Name", "Declared"]}
              unlabelledColumn="Actions"
            >
              {ws.environments.map((env) => (
                <tr key={env.id} data-environment={env.name}>
                  <td>
                    <code className={ui.code}>{env.name}</code>{" "}
                    {env.name === "default" ? <Badge>fallback</Badge> : null}
                  </td>
                  <td>
                    <Time iso={env.createdAt} />
                  </td>
                  <td style={{ textAlign: "right" }}>
                    {canAdmin && env.name !== "default" ? (
                      <Button small variant="dangerOutline" onClick={() => setDeleting(env.name)}>
                        Delete <span className="visually-hidden">{env.name}</span>
                      </Button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </Panel>
      </div>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the environment ${deleting ?? ""}?`}
        confirmLabel="Delete environment"
        tone="danger"
        busy={busy}
        error={deleteError}
        onCancel={() => {
          setDeleting(null);
          setDeleteError(undefined);
        }}
        onConfirm={remove}
      >
        <p style={{ margin: 0 }}>
          Runs that select <code>{deleting}</code> will no longer find credentials in it.
        </p>
      </ConfirmDialog>
    </>
  );
}
