"use client";

import { useState, type FormEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  CHANGE_MEMBER_ROLE,
  END_MEMBER_SESSIONS,
  INVITE_MEMBER,
  ORGANIZATION_PEOPLE,
  REMOVE_MEMBER,
  REVOKE_INVITATION,
  type Invitation,
  type OrgRole,
  type User,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { sentence, splitIssues } from "../credentials/issues.ts";
import { isOrgAdmin, useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { SelectField, TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { ShownOnce } from "../ui/ShownOnce.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";

const ROLE_HELP: Record<OrgRole, string> = {
  OWNER: "Owner: everything, including deleting the organization",
  ADMIN: "Admin: members, tokens, organization secrets, every workspace",
  MEMBER: "Member: the workspaces they are added to",
};

/**
 * The organization's people: its members, and — for admins — the invitations waiting to be
 * accepted. A new member is invited by email: Coffer makes a single-use link, shown here
 * once, for the admin to send; only its hash is stored.
 */
export default function MembersPage() {
  const shell = useShell();
  const orgId = toGlobalId("Organization", shell.organizationId);
  const admin = isOrgAdmin(shell);
  const query = useQuery(ORGANIZATION_PEOPLE, { id: orgId });
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);
  const [message, setMessage] = useState<string>();
  const org = query.data?.organization;

  return (
    <>
      <PageHeader
        title="Members"
        description="Who can sign in to this organization, and with which role."
      />
      <div className={ui.stack}>
        {message ? <Notice tone="success">{message}</Notice> : null}
        {admin && link ? (
          <ShownOnce
            title={`Invitation for ${link.email}`}
            warning="Send this link to them now: it will not be shown again"
            id="invitation-link"
            label="Invitation link"
            value={link.url}
            copyLabel="Copy link"
            doneLabel="I have sent it"
            onDone={() => {
              setLink(null);
              setMessage(`Invitation for ${link.email} is waiting to be accepted.`);
            }}
          >
            Anyone holding it can join as {link.email}, once. Coffer stores only a hash of it; if it
            is lost, invite the address again (the old link then stops working).
          </ShownOnce>
        ) : null}
        {admin && !link ? (
          <InviteForm
            organizationId={orgId}
            canInviteOwner={shell.organization.viewerRole === "OWNER"}
            onInvited={(issued) => {
              setMessage(undefined);
              setLink(issued);
              query.reload();
            }}
          />
        ) : null}
        {query.error ? <QueryError error={query.error} retry={query.reload} /> : null}
        {!org && !query.error ? <Loading label="Loading members…" /> : null}
        {org && admin ? (
          <PendingInvitations
            invitations={org.invitations}
            onRevoked={(email) => {
              setMessage(`Withdrew the invitation for ${email}: its link no longer works.`);
              query.reload();
            }}
          />
        ) : null}
        {org ? (
          <MemberTable
            organizationId={orgId}
            members={org.members.edges.map((e) => e.node)}
            admin={admin}
            viewerIsOwner={shell.organization.viewerRole === "OWNER"}
            viewerId={shell.viewer.user?.id}
            onChanged={(text) => {
              setMessage(text);
              query.reload();
            }}
          />
        ) : null}
      </div>
    </>
  );
}

type Member = { role: OrgRole; addedAt: string; user: User };
type MemberAction = { kind: "remove" | "signOut"; member: Member };

/**
 * The members, and for admins what they may change: the role (only an OWNER grants, changes
 * or removes OWNER; the server keeps the last OWNER), signing someone out everywhere, and
 * removing them.
 */
function MemberTable({
  organizationId,
  members,
  admin,
  viewerIsOwner,
  viewerId,
  onChanged,
}: {
  organizationId: string;
  members: Member[];
  admin: boolean;
  viewerIsOwner: boolean;
  viewerId: string | undefined;
  onChanged: (message: string) => void;
}) {
  const [action, setAction] = useState<MemberAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const manageable = (m: Member) => admin && (viewerIsOwner || m.role !== "OWNER");
  const roles: OrgRole[] = viewerIsOwner ? ["OWNER", "ADMIN", "MEMBER"] : ["ADMIN", "MEMBER"];

  async function run(send: () => Promise<{ ok: boolean; message?: string }>, done: string) {
    setBusy(true);
    setError(undefined);
    try {
      const result = await send();
      if (!result.ok) setError(result.message);
      else {
        setAction(null);
        onChanged(done);
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }

  const changeRole = (m: Member, role: OrgRole) =>
    run(async () => {
      const result = unwrap(
        (
          await request(CHANGE_MEMBER_ROLE, {
            input: { organizationId, userId: m.user.id, role },
          })
        ).changeOrganizationMemberRole,
      );
      return result.ok ? { ok: true } : { ok: false, message: result.error.message };
    }, `${m.user.email} is now ${role.toLowerCase()}.`);

  const confirm = () => {
    if (!action) return;
    const input = { organizationId, userId: action.member.user.id };
    void run(
      async () => {
        const result =
          action.kind === "remove"
            ? unwrap((await request(REMOVE_MEMBER, { input })).removeOrganizationMember)
            : unwrap((await request(END_MEMBER_SESSIONS, { input })).endOrganizationMemberSessions);
        return result.ok ? { ok: true } : { ok: false, message: result.error.message };
      },
      action.kind === "remove"
        ? `Removed ${action.member.user.email} from the organization and its workspaces.`
        : `Signed ${action.member.user.email} out of every console session.`,
    );
  };

  return (
    <Panel title="Members" flush>
      {error && !action ? <Notice tone="danger">{error}</Notice> : null}
      <DataTable
        caption="Members"
        columns={["Name", "Email", "Role", "Member since"]}
        unlabelledColumn="Actions"
      >
        {members.map((m) => (
          <tr key={m.user.id} data-member={m.user.email}>
            <td>
              <strong>{m.user.name}</strong>
            </td>
            <td>{m.user.email}</td>
            <td>
              {manageable(m) && m.user.id !== viewerId ? (
                <SelectField
                  label={<span className="visually-hidden">Role of {m.user.email}</span>}
                  value={m.role}
                  disabled={busy}
                  onChange={(e) => void changeRole(m, e.target.value as OrgRole)}
                >
                  {roles.map((r) => (
                    <option key={r} value={r}>
                      {r.toLowerCase()}
                    </option>
                  ))}
                </SelectField>
              ) : (
                <Badge tone={m.role === "MEMBER" ? "neutral" : "accent"}>
                  {m.role.toLowerCase()}
                </Badge>
              )}
            </td>
            <td>
              <Time iso={m.addedAt} />
            </td>
            <td style={{ textAlign: "right" }}>
              {manageable(m) && m.user.id !== viewerId ? (
                <span className={ui.pageActions}>
                  <Button small onClick={() => setAction({ kind: "signOut", member: m })}>
                    Sign out everywhere <span className="visually-hidden">{m.user.email}</span>
                  </Button>
                  <Button
                    small
                    variant="dangerOutline"
                    onClick={() => setAction({ kind: "remove", member: m })}
                  >
                    Remove <span className="visually-hidden">{m.user.email}</span>
                  </Button>
                </span>
              ) : null}
            </td>
          </tr>
        ))}
      </DataTable>
      <ConfirmDialog
        open={action !== null}
        title={
          action?.kind === "remove"
            ? `Remove ${action.member.user.email}?`
            : `Sign ${action?.member.user.email ?? ""} out everywhere?`
        }
        confirmLabel={action?.kind === "remove" ? "Remove member" : "Sign out everywhere"}
        tone="danger"
        busy={busy}
        error={error}
        onCancel={() => {
          setAction(null);
          setError(undefined);
        }}
        onConfirm={confirm}
      >
        <p style={{ margin: 0 }}>
          {action?.kind === "remove"
            ? "They lose access to the organization and every workspace in it at once. Their API tokens are separate: revoke those under API tokens."
            : "Every console session of theirs stops working at once; they can sign in again. API tokens are separate."}
        </p>
      </ConfirmDialog>
    </Panel>
  );
}

function InviteForm({
  organizationId,
  canInviteOwner,
  onInvited,
}: {
  organizationId: string;
  canInviteOwner: boolean;
  onInvited: (issued: { email: string; url: string }) => void;
}) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<OrgRole>("MEMBER");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);
  const roles: OrgRole[] = canInviteOwner ? ["MEMBER", "ADMIN", "OWNER"] : ["MEMBER", "ADMIN"];

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap(
        (
          await request(INVITE_MEMBER, {
            input: { organizationId, email: email.trim(), role },
          })
        ).inviteOrganizationMember,
      );
      if (!result.ok) setError(result.error);
      else {
        setEmail("");
        onInvited({ email: result.data.invitation.email, url: result.data.url });
      }
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
    }
    setBusy(false);
  }

  return (
    <Panel
      title="Invite someone"
      description="Coffer makes a single-use link that works for 7 days. It sends no email: you pass the link on."
    >
      <form onSubmit={onSubmit} aria-label="Invite someone" noValidate>
        <div className={ui.stack}>
          {error && (general.length || !error.issues?.length) ? (
            <Notice
              tone="danger"
              title="No invitation was made"
              details={(general.length ? general : [error.message]).map(sentence)}
            />
          ) : null}
          <div className={ui.row}>
            <div style={{ flex: "1 1 16rem" }}>
              <TextField
                label="Email"
                type="email"
                requiredMark
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                placeholder="name@example.com"
                error={fields.email}
                autoComplete="off"
              />
            </div>
            <div style={{ flex: "1 1 16rem" }}>
              <SelectField
                label="Role"
                value={role}
                onChange={(e) => setRole(e.target.value as OrgRole)}
              >
                {roles.map((r) => (
                  <option key={r} value={r}>
                    {ROLE_HELP[r]}
                  </option>
                ))}
              </SelectField>
            </div>
          </div>
          <div>
            <Button type="submit" variant="primary" busy={busy}>
              {busy ? "Inviting…" : "Create invitation link"}
            </Button>
          </div>
        </div>
      </form>
    </Panel>
  );
}

function PendingInvitations({
  invitations,
  onRevoked,
}: {
  invitations: Invitation[];
  onRevoked: (email: string) => void;
}) {
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function revoke() {
    if (!revoking) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap(
        (await request(REVOKE_INVITATION, { id: revoking.id })).revokeInvitation,
      );
      if (!result.ok) setError(result.error.message);
      else {
        setRevoking(null);
        onRevoked(revoking.email);
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }

  return (
    <Panel title="Pending invitations" flush>
      {invitations.length === 0 ? (
        <EmptyState title="No pending invitations">
          Invitations appear here until they are accepted, withdrawn or expire.
        </EmptyState>
      ) : (
        <DataTable
          caption="Pending invitations"
          columns={["Email", "Role", "Invited", "Expires"]}
          unlabelledColumn="Actions"
        >
          {invitations.map((i) => (
            <tr key={i.id} data-invitation={i.email}>
              <td>{i.email}</td>
              <td>
                <Badge tone="neutral">{i.role.toLowerCase()}</Badge>
              </td>
              <td>
                <Time iso={i.createdAt} />
              </td>
              <td>
                <Time iso={i.expiresAt} />
              </td>
              <td style={{ textAlign: "right" }}>
                <Button small variant="dangerOutline" onClick={() => setRevoking(i)}>
                  Withdraw <span className="visually-hidden">{i.email}</span>
                </Button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title={`Withdraw the invitation for ${revoking?.email ?? ""}?`}
        confirmLabel="Withdraw invitation"
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
          Its link stops working at once. You can invite them again later.
        </p>
      </ConfirmDialog>
    </Panel>
  );
}
