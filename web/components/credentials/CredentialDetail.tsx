"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { setFlash } from "../../lib/flash.ts";
import { SECRET_TYPE_LABELS } from "../../lib/format.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import { secretStreamId, toGlobalId } from "../../lib/ids.ts";
import {
  DELETE_SECRET,
  RESTORE_SECRET_VERSION,
  SECRET,
  SHARE_SECRET,
  type SecretDetail,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { useShell } from "../shell/ShellContext.ts";
import { Badge, KeyChips } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { CopyButton } from "../ui/CopyButton.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";
import { useFlash } from "../../lib/useFlash.ts";
import { ScopeBadge } from "./CredentialsTable.tsx";
import styles from "./credentials.module.css";
import {
  describeActor,
  describeCreatedBy,
  splitCreatedBy,
  useDirectory,
  type Directory,
} from "./directory.ts";
import { EditValues } from "./EditValues.tsx";

export default function CredentialDetail({
  secretId,
  listHref,
}: {
  secretId: string;
  listHref: string;
}) {
  const shell = useShell();
  const flash = useFlash();
  const [notice, setNotice] = useState<{
    tone: "success" | "warning";
    title: string;
    details?: string[];
  }>();
  const secret = useQuery(SECRET, { id: toGlobalId("Secret", secretId) });
  const data = secret.data?.secret;
  const tokenIds = [
    ...(data?.recentUsage.edges
      .filter((e) => e.node.actorKind === "token")
      .map((e) => e.node.actorId) ?? []),
    ...(data?.versions
      .map((v) => splitCreatedBy(v.createdBy))
      .filter(([kind]) => kind === "token")
      .map(([, id]) => id) ?? []),
  ];
  const directory = useDirectory(shell.organizationId, tokenIds);

  if (secret.error && !data) return <QueryError error={secret.error} retry={secret.reload} />;
  if (!secret.data) return <Loading label="Loading the credential…" />;
  if (!data)
    return (
      <EmptyState
        title="Credential not found"
        action={<Link href={listHref}>Back to credentials</Link>}
      >
        It was deleted, or it is not visible to you.
      </EmptyState>
    );

  const shown = notice ?? flash;
  const onChanged = (message: {
    tone: "success" | "warning";
    title: string;
    details?: string[];
  }) => {
    setNotice(message);
    secret.reload();
  };

  return (
    <>
      <PageHeader
        breadcrumb={<Link href={listHref}>Credentials</Link>}
        title={data.name}
        description={
          <span className={ui.chips}>
            <ScopeBadge scope={data.scope} />
            <Badge>{SECRET_TYPE_LABELS[data.type]}</Badge>
            <Badge tone="accent">environment {data.environment}</Badge>
            <Badge tone="success">version {data.currentVersion}</Badge>
            {data.template ? <Badge>{data.template.title} template</Badge> : null}
          </span>
        }
        actions={
          <Link
            className={`${ui.button} ${ui.secondary}`}
            href={`/o/${shell.organizationId}/audit?stream=${encodeURIComponent(secretStreamId(data.id))}`}
          >
            View in audit log
          </Link>
        }
      />
      <div className={ui.stack}>
        {shown ? <Notice tone={shown.tone} title={shown.title} details={shown.details} /> : null}
        <div className={styles.columns}>
          <Summary secret={data} />
          <Panel
            title="How actions use it"
            description="Reference these expressions; the values are substituted at run time."
          >
            <ul className={styles.expressions}>
              {data.expressions.map((expression, i) => (
                <li key={expression}>
                  <code className={ui.code} id={`expression-${i}`}>
                    {expression}
                  </code>
                  <CopyButton text={expression} />
                </li>
              ))}
            </ul>
          </Panel>
        </div>
        <EditValues secret={data} onChanged={onChanged} />
        <RecentUsage secret={data} directory={directory} />
        <Versions secret={data} directory={directory} onChanged={onChanged} />
        {data.scope === "PERSONAL" ? <Share secret={data} onChanged={onChanged} /> : null}
        <DangerZone secret={data} listHref={listHref} />
      </div>
    </>
  );
}

function Summary({ secret }: { secret: SecretDetail }) {
  return (
    <Panel title="Details">
      <dl className={ui.dl}>
        <dt>Environment</dt>
        <dd>
          <code className={ui.code}>{secret.environment}</code>
        </dd>
        <dt>Scope</dt>
        <dd>
          {secret.scope === "PERSONAL"
            ? `Personal to ${secret.owner?.email ?? "its owner"}: used only in runs on their behalf`
            : secret.scope === "ORGANIZATION"
              ? "Organization: every workspace can resolve it"
              : `Shared with the workspace${secret.workspace ? ` ${secret.workspace.name}` : ""}`}
        </dd>
        <dt>Keys</dt>
        <dd>
          <KeyChips keys={secret.keyNames} />
        </dd>
        <dt>Current version</dt>
        <dd data-testid="current-version">v{secret.currentVersion}</dd>
        <dt>Created</dt>
        <dd>
          <Time iso={secret.createdAt} />
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time iso={secret.updatedAt} />
        </dd>
        <dt>Last used</dt>
        <dd>
          <Time iso={secret.lastUsedAt} fallback="Never" />
        </dd>
        {secret.description ? (
          <>
            <dt>Description</dt>
            <dd>{secret.description}</dd>
          </>
        ) : null}
      </dl>
    </Panel>
  );
}

function RecentUsage({ secret, directory }: { secret: SecretDetail; directory: Directory }) {
  const usage = secret.recentUsage.edges.map((e) => e.node);
  return (
    <Panel
      id="recent-usage"
      title="Recent usage"
      description="Every resolution that handed out this credential: who, for which action and run, and which version. Values are never recorded."
      flush
    >
      {usage.length === 0 ? (
        <EmptyState title="Not used yet">
          When a platform resolves <code>{secret.expressions[0]}</code>, the use shows up here.
        </EmptyState>
      ) : (
        <DataTable
          caption={`Recent usage of ${secret.name}`}
          columns={["When", "Who", "Action", "Workflow / run", "Environment", "Version", "Keys"]}
        >
          {usage.map((u) => (
            <tr key={u.auditPosition}>
              <td>
                <Time iso={u.usedAt} />
              </td>
              <td>
                {describeActor(directory, u.actorKind, u.actorId)}
                {u.onBehalfOf ? (
                  <div className="muted" style={{ fontSize: "0.8rem" }}>
                    on behalf of {u.onBehalfOf.email}
                  </div>
                ) : null}
              </td>
              <td>{u.actionRef ? <code className={ui.code}>{u.actionRef}</code> : "—"}</td>
              <td>
                {u.workflowId ?? "—"}
                {u.runId ? <div className="muted">run {u.runId}</div> : null}
              </td>
              <td>
                <code className={ui.code}>{u.environment}</code>
              </td>
              <td>v{u.version}</td>
              <td>
                <KeyChips keys={u.keyNames} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Panel>
  );
}

const ORIGIN_LABELS: Record<string, string> = {
  CREATED: "Created",
  UPDATED: "Updated",
  ROTATED: "Rotated",
  RESTORED: "Restored",
};

function Versions({
  secret,
  directory,
  onChanged,
}: {
  secret: SecretDetail;
  directory: Directory;
  onChanged: (message: { tone: "success"; title: string }) => void;
}) {
  const [restoring, setRestoring] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function restore() {
    if (restoring === null) return;
    setBusy(true);
    setError(undefined);
    try {
      const { restoreSecretVersion } = await request(RESTORE_SECRET_VERSION, {
        input: { id: secret.id, version: restoring, expectedVersion: secret.currentVersion },
      });
      const result = unwrap(restoreSecretVersion);
      if (!result.ok) setError(result.error.message);
      else {
        onChanged({
          tone: "success",
          title: `Restored the values of version ${restoring} as version ${result.data.currentVersion}.`,
        });
        setRestoring(null);
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }

  return (
    <Panel
      id="versions"
      title="Versions"
      description="Every change writes a new immutable version. Restoring copies an older version's values into a new one."
      flush
    >
      <DataTable
        caption={`Versions of ${secret.name}`}
        columns={["Version", "Change", "Keys", "By", "When", "Transit key"]}
        unlabelledColumn="Actions"
      >
        {secret.versions.map((v) => (
          <tr key={v.version} data-version={v.version}>
            <td>
              v{v.version}{" "}
              {v.version === secret.currentVersion ? <Badge tone="success">current</Badge> : null}
            </td>
            <td>
              {ORIGIN_LABELS[v.origin] ?? v.origin}
              {v.restoredFrom ? ` from v${v.restoredFrom}` : ""}
            </td>
            <td>
              <KeyChips keys={v.keyNames} />
            </td>
            <td>{describeCreatedBy(directory, v.createdBy)}</td>
            <td>
              <Time iso={v.createdAt} />
            </td>
            <td>{v.transitKeyVersion ? `v${v.transitKeyVersion}` : "—"}</td>
            <td>
              {v.pruned ? (
                <span
                  className="muted"
                  title="Older than the kept history: its values were removed"
                >
                  values pruned
                </span>
              ) : v.version !== secret.currentVersion ? (
                <Button small onClick={() => setRestoring(v.version)}>
                  Restore v{v.version}
                </Button>
              ) : null}
            </td>
          </tr>
        ))}
      </DataTable>
      <ConfirmDialog
        open={restoring !== null}
        title={`Restore version ${restoring ?? ""}?`}
        confirmLabel="Restore"
        busy={busy}
        error={error}
        onCancel={() => {
          setRestoring(null);
          setError(undefined);
        }}
        onConfirm={restore}
      >
        <p style={{ margin: 0 }}>
          The values of version {restoring} become current again as version{" "}
          {secret.currentVersion + 1}. Runs use them from the next resolution on; the name and
          expressions stay the same.
        </p>
      </ConfirmDialog>
    </Panel>
  );
}

function Share({
  secret,
  onChanged,
}: {
  secret: SecretDetail;
  onChanged: (message: { tone: "success"; title: string }) => void;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  async function share() {
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap((await request(SHARE_SECRET, { id: secret.id })).shareSecret);
      if (!result.ok) setError(result.error.message);
      else {
        setOpen(false);
        onChanged({ tone: "success", title: `${secret.name} is now shared with the workspace.` });
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }
  return (
    <Panel
      title="Personal credential"
      description="Only its owner sees it, and it is used only in runs on their behalf."
    >
      <div className={ui.row} style={{ justifyContent: "space-between", alignItems: "center" }}>
        <p style={{ margin: 0 }}>
          Share it to make it a workspace credential that every run in the workspace can use.
        </p>
        <Button onClick={() => setOpen(true)}>Share with the workspace</Button>
      </div>
      <ConfirmDialog
        open={open}
        title={`Share ${secret.name} with the workspace?`}
        confirmLabel="Share"
        busy={busy}
        error={error}
        onCancel={() => setOpen(false)}
        onConfirm={share}
      >
        <p style={{ margin: 0 }}>
          Every run in the workspace will be able to use it, not only runs on your behalf. It keeps
          its name, keys and versions; the change is recorded in the audit log.
        </p>
      </ConfirmDialog>
    </Panel>
  );
}

function DangerZone({ secret, listHref }: { secret: SecretDetail; listHref: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  async function remove() {
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap((await request(DELETE_SECRET, { id: secret.id })).deleteSecret);
      if (!result.ok) {
        setError(result.error.message);
        setBusy(false);
        return;
      }
      setFlash({
        tone: "success",
        title: `Deleted ${secret.name} from ${secret.environment}. Runs that reference it now fail with credential_not_found; its history stays in the audit log.`,
      });
      router.push(listHref);
    } catch (caught) {
      setError(toRequestError(caught).message);
      setBusy(false);
    }
  }
  return (
    <Panel title="Delete" description="Revokes the credential at once.">
      <div className={ui.row} style={{ justifyContent: "space-between", alignItems: "center" }}>
        <p style={{ margin: 0 }}>
          Resolutions that reference <code>{secret.name}</code> in <code>{secret.environment}</code>{" "}
          will fail with <code>credential_not_found</code>.
        </p>
        <Button variant="dangerOutline" onClick={() => setOpen(true)}>
          Delete credential
        </Button>
      </div>
      <ConfirmDialog
        open={open}
        title={`Delete ${secret.name}?`}
        confirmLabel="Delete credential"
        tone="danger"
        confirmText={secret.name}
        busy={busy}
        error={error}
        onCancel={() => setOpen(false)}
        onConfirm={remove}
      >
        <p style={{ margin: 0 }}>
          This cannot be undone from the console. Its versions and usage stay in the audit log.
        </p>
      </ConfirmDialog>
    </Panel>
  );
}
