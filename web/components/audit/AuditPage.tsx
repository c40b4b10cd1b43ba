"use client";

import { Fragment, useEffect, useState, type FormEvent } from "react";
import { request } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  AUDIT_EVENTS,
  VERIFY_AUDIT_CHAIN,
  type AuditEvent,
  type AuditEventFilter,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { formatDateTime } from "../../lib/format.ts";
import { describeActor, useDirectory } from "../credentials/directory.ts";
import { isOrgAdmin, useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { SelectField, TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import ui from "../ui/ui.module.css";
import { TransitKeyPanel } from "./TransitKeyPanel.tsx";

/** Event types of an organization's log, for the type filter's suggestions. */
const KNOWN_TYPES = [
  "SecretCreated",
  "SecretUpdated",
  "SecretRotated",
  "SecretVersionRestored",
  "SecretShared",
  "SecretDeleted",
  "SecretVersionsPruned",
  "SecretsResolved",
  "SecretsResolutionFailed",
  "EnvironmentDeclared",
  "EnvironmentDeleted",
  "ApiTokenIssued",
  "ApiTokenRevoked",
  "OAuthProviderCreated",
  "OAuthProviderUpdated",
  "OAuthProviderDeleted",
  "OAuthConnected",
  "OAuthTokenRefreshed",
  "OAuthRefreshFailed",
  "OAuthDisconnected",
  "OrganizationCreated",
  "OrgMemberAdded",
  "OrgMemberRoleChanged",
  "OrgMemberRemoved",
  "WorkspaceCreated",
  "WorkspaceMemberAdded",
  "WorkspaceMemberRoleChanged",
  "WorkspaceMemberRemoved",
  "AwsExternalIdRotated",
  "TransitKeyRotated",
  "SecretsRewrapStarted",
  "SecretsRewrapCompleted",
  "TransitKeyMinimumRaised",
  "OrgMemberSessionsEnded",
  "OrganizationMfaRequirementChanged",
  "UserSessionRevoked",
];

type Form = { types: string; actorId: string; streamId: string; since: string; until: string };
const EMPTY: Form = { types: "", actorId: "", streamId: "", since: "", until: "" };

function toFilter(form: Form): AuditEventFilter {
  const types = form.types
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    ...(types.length ? { types } : {}),
    ...(form.actorId.trim() ? { actorId: form.actorId.trim() } : {}),
    ...(form.streamId.trim() ? { streamId: form.streamId.trim() } : {}),
    ...(form.since ? { since: new Date(form.since).toISOString() } : {}),
    ...(form.until ? { until: new Date(form.until).toISOString() } : {}),
  };
}

export default function AuditPage() {
  const shell = useShell();
  const organizationId = toGlobalId("Organization", shell.organizationId);
  const [form, setForm] = useState<Form>(EMPTY);
  const [filter, setFilter] = useState<AuditEventFilter | null>(null);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ReturnType<typeof toRequestError>>();
  const [open, setOpen] = useState<Set<string>>(new Set());
  const chain = useQuery(VERIFY_AUDIT_CHAIN, { organizationId });
  const tokenIds = [
    ...new Set(events.filter((e) => e.actorKind === "token").map((e) => e.actorId)),
  ];
  const directory = useDirectory(shell.organizationId, tokenIds);

  // A credential's "View in audit log" arrives with ?stream=secret-<id>.
  useEffect(() => {
    const stream = new URLSearchParams(window.location.search).get("stream") ?? "";
    const initial = { ...EMPTY, streamId: stream };
    setForm(initial);
    setFilter(toFilter(initial));
  }, []);

  useEffect(() => {
    if (!filter) return;
    void load(filter, null);
  }, [filter]);

  async function load(current: AuditEventFilter, after: string | null) {
    setLoading(true);
    setError(undefined);
    try {
      const { auditEvents } = await request(AUDIT_EVENTS, {
        organizationId,
        filter: current,
        after,
      });
      const page = auditEvents.edges.map((e) => e.node);
      setEvents((previous) => (after ? [...previous, ...page] : page));
      setCursor(auditEvents.pageInfo.endCursor);
      setHasMore(auditEvents.pageInfo.hasNextPage);
    } catch (caught) {
      setError(toRequestError(caught));
    }
    setLoading(false);
  }

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setOpen(new Set());
    setFilter(toFilter(form));
  }

  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const streams = [...new Set(events.map((e) => e.streamId))].sort();
  const verification = chain.data?.verifyAuditChain;

  if (error?.code === "FORBIDDEN" && !events.length)
    return (
      <>
        <PageHeader title="Audit log" />
        <Panel>
          <EmptyState title="You are not allowed to read the audit log">
            Reading the audit log needs the audit:read permission, which organization owners and
            admins have.
          </EmptyState>
        </Panel>
      </>
    );

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change and every use of a credential, append-only and hash-chained per organization. Events carry names, versions and who did what — never a secret value."
      />
      <div className={ui.stack}>
        <Panel
          title="Chain integrity"
          actions={
            <Button small onClick={chain.reload} busy={chain.loading}>
              Verify again
            </Button>
          }
        >
          {chain.error ? <QueryError error={chain.error} /> : null}
          {!verification && !chain.error ? <Loading label="Verifying the hash chain…" /> : null}
          {verification?.data ? (
            verification.data.ok ? (
              <Notice tone="success" title="Chain verified">
                All {verification.data.eventCount} events recomputed to the same hashes; the head is{" "}
                <code>{verification.data.headHash?.slice(0, 16)}…</code>.
              </Notice>
            ) : (
              <Notice tone="danger" title="Chain broken">
                The first bad event is at position {verification.data.firstBadPosition} (
                {verification.data.reason === "broken_link"
                  ? "an event before it is missing"
                  : "its content was altered"}
                ). Events from there on cannot be trusted; investigate the database.
              </Notice>
            )
          ) : verification ? (
            <Notice tone="warning">{verification.message}</Notice>
          ) : null}
        </Panel>
        {isOrgAdmin(shell) ? <TransitKeyPanel organizationId={organizationId} /> : null}
        <Panel title="Filters">
          <form onSubmit={apply} aria-label="Filter the audit log">
            <div className={ui.filters}>
              <div>
                <TextField
                  label="Event types"
                  value={form.types}
                  onChange={(e) => set({ types: e.target.value })}
                  list="audit-types"
                  placeholder="e.g. SecretRotated"
                  hint="One or more, separated by commas."
                />
                <datalist id="audit-types">
                  {KNOWN_TYPES.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </div>
              <div>
                <SelectField
                  label="Actor"
                  value={form.actorId}
                  onChange={(e) => set({ actorId: e.target.value })}
                >
                  <option value="">Anyone</option>
                  {directory.members.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.email}
                    </option>
                  ))}
                  {tokenIds.map((id) => (
                    <option key={id} value={id}>
                      {describeActor(directory, "token", id)}
                    </option>
                  ))}
                  {form.actorId &&
                  !tokenIds.includes(form.actorId) &&
                  !directory.members.some((m) => m.id === form.actorId) ? (
                    <option value={form.actorId}>{form.actorId}</option>
                  ) : null}
                </SelectField>
              </div>
              <div>
                <TextField
                  label="Credential or stream"
                  value={form.streamId}
                  onChange={(e) => set({ streamId: e.target.value })}
                  list="audit-streams"
                  placeholder="secret-…"
                  hint="A credential's page links here with its stream."
                  className={ui.mono}
                />
                <datalist id="audit-streams">
                  {streams.map((s) => (
                    <option key={s} value={s} />
                  ))}
                </datalist>
              </div>
              <div>
                <TextField
                  label="From"
                  type="datetime-local"
                  value={form.since}
                  onChange={(e) => set({ since: e.target.value })}
                />
              </div>
              <div>
                <TextField
                  label="Until"
                  type="datetime-local"
                  value={form.until}
                  onChange={(e) => set({ until: e.target.value })}
                />
              </div>
            </div>
            <div className={ui.pageActions} style={{ marginTop: "1rem" }}>
              <Button type="submit" variant="primary">
                Apply filters
              </Button>
              <Button
                onClick={() => {
                  setForm(EMPTY);
                  setFilter(toFilter(EMPTY));
                }}
              >
                Reset
              </Button>
            </div>
          </form>
        </Panel>
        <Panel title="Events" description="Oldest first, by position in the log." flush>
          {error ? <QueryError error={error} /> : null}
          {loading && !events.length ? <Loading label="Loading events…" /> : null}
          {!loading && !error && events.length === 0 ? (
            <EmptyState title="No events match">Widen the filters or reset them.</EmptyState>
          ) : null}
          {events.length ? (
            <DataTable
              caption="Audit events"
              columns={["Position", "When", "Event", "Actor", "Stream"]}
              unlabelledColumn="Details"
            >
              {events.map((e) => {
                const expanded = open.has(e.position);
                return (
                  <Fragment key={e.position}>
                    <tr data-event-type={e.type}>
                      <td>{e.position}</td>
                      <td>{formatDateTime(e.occurredAt)}</td>
                      <td>
                        <Badge tone={e.type.startsWith("SecretsResol") ? "accent" : "neutral"}>
                          {e.type}
                        </Badge>
                      </td>
                      <td>{describeActor(directory, e.actorKind, e.actorId)}</td>
                      <td>
                        <button
                          type="button"
                          className="linkButton"
                          title="Show only this stream"
                          onClick={() => {
                            const next = { ...form, streamId: e.streamId };
                            setForm(next);
                            setFilter(toFilter(next));
                          }}
                        >
                          <code title={e.streamId}>{shortStream(e.streamId)}</code>
                        </button>{" "}
                        <span className="muted">v{e.streamVersion}</span>
                      </td>
                      <td>
                        <Button
                          small
                          variant="ghost"
                          aria-expanded={expanded}
                          aria-controls={`event-${e.position}`}
                          onClick={() =>
                            setOpen((current) => {
                              const next = new Set(current);
                              if (expanded) next.delete(e.position);
                              else next.add(e.position);
                              return next;
                            })
                          }
                        >
                          {expanded ? "Hide" : "Details"}
                          <span className="visually-hidden"> of event {e.position}</span>
                        </Button>
                      </td>
                    </tr>
                    {expanded ? (
                      <tr id={`event-${e.position}`}>
                        <td colSpan={6} style={{ background: "var(--surface-muted)" }}>
                          <EventDetails event={e} />
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                );
              })}
            </DataTable>
          ) : null}
          {hasMore ? (
            <div style={{ padding: "0.9rem 1.25rem" }}>
              <Button onClick={() => filter && load(filter, cursor)} busy={loading}>
                Load more events
              </Button>
            </div>
          ) : null}
        </Panel>
      </div>
    </>
  );
}

/** `secret-6468daf5-d049-…` → `secret-6468daf5…`: the full id is in the tooltip. */
function shortStream(streamId: string): string {
  const match = /^(.*?-)([0-9a-f]{8})-[0-9a-f-]{27}$/.exec(streamId);
  return match ? `${match[1]}${match[2]}…` : streamId;
}

function EventDetails({ event }: { event: AuditEvent }) {
  return (
    <div
      style={{
        display: "grid",
        gap: "0.75rem",
        gridTemplateColumns: "repeat(auto-fit, minmax(20rem, 1fr))",
      }}
    >
      <div>
        <h3 className={ui.label}>Data</h3>
        <pre className={ui.pre}>{JSON.stringify(event.data, null, 2)}</pre>
      </div>
      <div>
        <h3 className={ui.label}>Metadata</h3>
        <pre className={ui.pre}>{JSON.stringify(event.metadata, null, 2)}</pre>
      </div>
      <dl className={ui.dl} style={{ gridColumn: "1 / -1" }}>
        <dt>Schema version</dt>
        <dd>{event.schemaVersion}</dd>
        <dt>Request id</dt>
        <dd>{event.requestId ?? "—"}</dd>
        <dt>Hash</dt>
        <dd>
          <code className={ui.code}>{event.hash}</code>
        </dd>
        <dt>Previous hash</dt>
        <dd>
          <code className={ui.code}>{event.prevHash}</code>
        </dd>
      </dl>
    </div>
  );
}
