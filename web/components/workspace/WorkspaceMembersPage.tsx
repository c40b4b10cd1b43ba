"use client";

import { useState, type FormEvent } from "react";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  ADD_WORKSPACE_MEMBER,
  CHANGE_WORKSPACE_MEMBER_ROLE,
  REMOVE_WORKSPACE_MEMBER,
  WORKSPACE_PEOPLE,
  type User,
  type WorkspaceRole,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { SelectField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";

const ROLES: { role: WorkspaceRole; help: string }[] = [
  { role: "VIEWER", help: "Viewer: sees credentials' names and keys, never values" },
  { role: "EDITOR", help: "Editor: creates, rotates and resolves credentials; OAuth" },
  { role: "ADMIN", help: "Admin: all of it, tokens and members too" },
];

type Member = { role: WorkspaceRole; addedAt: string; user: User };

/**
 * Who works in this workspace, with which role. Organization OWNERs and ADMINs reach every
 * workspace without being listed; a workspace admin adds organization members here.
 */
export default function WorkspaceMembersPage() {
  const shell = useShell();
  const id = toGlobalId("Workspace", shell.workspaceId!);
  const query = useQuery(WORKSPACE_PEOPLE, { id });
  const ws = query.data?.workspace;
  const canAdmin = ws?.viewerPermissions.includes("ADMIN") ?? false;
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);

  async function run(send: () => Promise<string | null>, done: string) {
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    try {
      const failure = await send();
      if (failure) setError(failure);
      else {
        await query.reload();
        setMessage(done);
        setRemoving(null);
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }

  const members = ws?.members.edges.map((e) => e.node) ?? [];
  const listed = new Set(members.map((m) => m.user.id));
  const candidates =
    ws?.organization.members.edges
      .map((e) => e.node)
      .filter((m) => m.role === "MEMBER" && !listed.has(m.user.id)) ?? [];

  return (
    <>
      <PageHeader
        title="Workspace members"
        description={`Who works in ${ws?.name ?? "this workspace"}. Organization owners and admins reach every workspace without being listed.`}
      />
      <div className={ui.stack}>
        {message ? <Notice tone="success">{message}</Notice> : null}
        {error && !removing ? <Notice tone="danger">{error}</Notice> : null}
        {query.error ? <QueryError error={query.error} retry={query.reload} /> : null}
        {!ws && !query.error ? <Loading label="Loading members…" /> : null}
        {ws && canAdmin ? (
          <AddMember
            candidates={candidates.map((c) => c.user)}
            busy={busy}
            onAdd={(user, role) =>
              run(async () => {
                const result = unwrap(
                  (
                    await request(ADD_WORKSPACE_MEMBER, {
                      input: { workspaceId: id, userId: user.id, role },
                    })
                  ).addWorkspaceMember,
                );
                return result.ok ? null : result.error.message;
              }, `Added ${user.email} as ${role.toLowerCase()}.`)
            }
          />
        ) : null}
        {ws ? (
          <Panel title="Members" flush>
            {members.length === 0 ? (
              <EmptyState title="Nobody is listed yet">
                Organization owners and admins can already work here.
              </EmptyState>
            ) : (
              <DataTable
                caption="Workspace members"
                columns={["Name", "Email", "Role", "Added"]}
                unlabelledColumn="Actions"
              >
                {members.map((m) => (
                  <tr key={m.user.id} data-workspace-member={m.user.email}>
                    <td>
                      <strong>{m.user.name}</strong>
                    </td>
                    <td>{m.user.email}</td>
                    <td>
                      {canAdmin ? (
                        <SelectField
                          label={<span className="visually-hidden">Role of {m.user.email}</span>}
                          value={m.role}
                          disabled={busy}
                          onChange={(e) => {
                            const role = e.target.value as WorkspaceRole;
                            void run(async () => {
                              const result = unwrap(
                                (
                                  await request(CHANGE_WORKSPACE_MEMBER_ROLE, {
                                    input: { workspaceId: id, userId: m.user.id, role },
                                  })
                                ).changeWorkspaceMemberRole,
                              );
                              return result.ok ? null : result.error.message;
                            }, `${m.user.email} is now ${role.toLowerCase()} here.`);
                          }}
                        >
                          {ROLES.map((r) => (
                            <option key={r.role} value={r.role}>
                              {r.role.toLowerCase()}
                            </option>
                          ))}
                        </SelectField>
                      ) : (
                        <Badge>{m.role.toLowerCase()}</Badge>
                      )}
                    </td>
                    <td>
                      <Time iso={m.addedAt} />
                    </td>
                    <td style={{ textAlign: "right" }}>
                      {canAdmin ? (
                        <Button small variant="dangerOutline" onClick={() => setRemoving(m)}>
                          Remove <span className="visually-hidden">{m.user.email}</span>
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
          </Panel>
        ) : null}
      </div>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.user.email ?? ""} from ${ws?.name ?? "the workspace"}?`}
        confirmLabel="Remove from workspace"
        tone="danger"
        busy={busy}
        error={error}
        onCancel={() => {
          setRemoving(null);
          setError(undefined);
        }}
        onConfirm={() => {
          const m = removing!;
          void run(async () => {
            const result = unwrap(
              (
                await request(REMOVE_WORKSPACE_MEMBER, {
                  input: { workspaceId: id, userId: m.user.id },
                })
              ).removeWorkspaceMember,
            );
            return result.ok ? null : result.error.message;
          }, `Removed ${m.user.email} from the workspace.`);
        }}
      >
        <p style={{ margin: 0 }}>
          They stay in the organization, and lose this workspace&apos;s credentials at once.
        </p>
      </ConfirmDialog>
    </>
  );
}

function AddMember({
  candidates,
  busy,
  onAdd,
}: {
  candidates: User[];
  busy: boolean;
  onAdd: (user: User, role: WorkspaceRole) => Promise<void>;
}) {
  const [userId, setUserId] = useState("");
  const [role, setRole] = useState<WorkspaceRole>("EDITOR");
  const chosen = candidates.find((c) => c.id === userId);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (chosen) void onAdd(chosen, role).then(() => setUserId(""));
  }

  return (
    <Panel
      title="Add a member"
      description="Organization members with the member role; invite new people under Organization → Members first."
    >
      {candidates.length === 0 ? (
        <p style={{ margin: 0 }}>Every organization member is already here.</p>
      ) : (
        <form onSubmit={onSubmit} aria-label="Add a workspace member">
          <div className={ui.row}>
            <div style={{ flex: "1 1 16rem" }}>
              <SelectField
                label="Organization member"
                value={userId}
                onChange={(e) => setUserId(e.target.value)}
              >
                <option value="">Choose…</option>
                {candidates.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} ({c.email})
                  </option>
                ))}
              </SelectField>
            </div>
            <div style={{ flex: "1 1 16rem" }}>
              <SelectField
                label="Workspace role"
                value={role}
                onChange={(e) => setRole(e.target.value as WorkspaceRole)}
              >
                {ROLES.map((r) => (
                  <option key={r.role} value={r.role}>
                    {r.help}
                  </option>
                ))}
              </SelectField>
            </div>
            <div style={{ alignSelf: "flex-end" }}>
              <Button type="submit" variant="primary" busy={busy} disabled={!chosen}>
                Add to workspace
              </Button>
            </div>
          </div>
        </form>
      )}
    </Panel>
  );
}
