"use client";

import { useState, type FormEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  CREATE_WEBHOOK,
  DELETE_WEBHOOK,
  WEBHOOKS,
  type WebhookSubscription,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { sentence, splitIssues } from "../credentials/issues.ts";
import { isOrgAdmin, useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { ShownOnce } from "../ui/ShownOnce.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";

/**
 * The organization's audit stream to a SIEM: every event (or chosen types), in order,
 * signed with a key shown once. Each subscription shows how far delivery got and why it
 * is waiting, if it is.
 */
export default function WebhooksPage() {
  const shell = useShell();
  const orgId = toGlobalId("Organization", shell.organizationId);
  const admin = isOrgAdmin(shell);
  const query = useQuery(WEBHOOKS, { id: orgId }, { skip: !admin });
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const [message, setMessage] = useState<string>();
  const subscriptions = query.data?.organization?.webhookSubscriptions;

  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Coffer sends every event of the organization's audit log, in order, to each receiver, signed with HMAC-SHA256 (x-coffer-signature)."
      />
      <div className={ui.stack}>
        {!admin ? <Notice>Only organization admins manage webhooks.</Notice> : null}
        {message ? <Notice tone="success">{message}</Notice> : null}
        {admin && created ? (
          <ShownOnce
            title={`Webhook to ${created.url} created`}
            warning="Copy the signing key now: it will not be shown again"
            id="signing-secret"
            label="Signing key"
            value={created.secret}
            copyLabel="Copy key"
            onDone={() => setCreated(null)}
          >
            Your receiver checks each delivery&apos;s x-coffer-signature with it.
          </ShownOnce>
        ) : null}
        {admin && !created ? (
          <CreateForm
            organizationId={orgId}
            onCreated={async (url, secret) => {
              setMessage(undefined);
              await query.reload();
              setCreated({ url, secret });
            }}
          />
        ) : null}
        {query.error ? <QueryError error={query.error} retry={query.reload} /> : null}
        {admin && !subscriptions && !query.error ? <Loading label="Loading webhooks…" /> : null}
        {subscriptions ? (
          <Subscriptions
            organizationId={orgId}
            subscriptions={subscriptions}
            onDeleted={async (url) => {
              await query.reload();
              setMessage(`Deleted the webhook to ${url}. Nothing more is sent to it.`);
            }}
          />
        ) : null}
      </div>
    </>
  );
}

function CreateForm({
  organizationId,
  onCreated,
}: {
  organizationId: string;
  onCreated: (url: string, secret: string) => Promise<void>;
}) {
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const eventTypes = types
        .split(/[\s,]+/)
        .map((t) => t.trim())
        .filter(Boolean);
      const result = unwrap(
        (
          await request(CREATE_WEBHOOK, {
            input: {
              organizationId,
              url: url.trim(),
              ...(eventTypes.length ? { eventTypes } : {}),
            },
          })
        ).createWebhookSubscription,
      );
      if (!result.ok) setError(result.error);
      else {
        setUrl("");
        setTypes("");
        await onCreated(result.data.subscription.url, result.data.signingSecret);
      }
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
    }
    setBusy(false);
  }

  return (
    <Panel
      title="Add a receiver"
      description="An https URL Coffer may reach (no internal addresses)."
    >
      <form onSubmit={onSubmit} aria-label="Add a webhook" noValidate>
        <div className={ui.stack}>
          {error && (general.length || !error.issues?.length) ? (
            <Notice
              tone="danger"
              title="No webhook was added"
              details={(general.length ? general : [error.message]).map(sentence)}
            />
          ) : null}
          <div className={ui.row}>
            <div style={{ flex: "2 1 20rem" }}>
              <TextField
                label="Receiver URL"
                requiredMark
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                placeholder="https://siem.example.com/coffer"
                error={fields.url}
                autoComplete="off"
              />
            </div>
            <div style={{ flex: "1 1 14rem" }}>
              <TextField
                label="Event types"
                optionalMark
                hint="Comma-separated; empty sends every event"
                value={types}
                onChange={(e) => setTypes(e.target.value)}
                error={fields.eventTypes}
                autoComplete="off"
              />
            </div>
          </div>
          <div>
            <Button type="submit" variant="primary" busy={busy}>
              {busy ? "Adding…" : "Add webhook"}
            </Button>
          </div>
        </div>
      </form>
    </Panel>
  );
}

function Subscriptions({
  organizationId,
  subscriptions,
  onDeleted,
}: {
  organizationId: string;
  subscriptions: WebhookSubscription[];
  onDeleted: (url: string) => Promise<void>;
}) {
  const [deleting, setDeleting] = useState<WebhookSubscription | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function remove() {
    if (!deleting) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap(
        (await request(DELETE_WEBHOOK, { id: deleting.id, organizationId }))
          .deleteWebhookSubscription,
      );
      if (!result.ok) setError(result.error.message);
      else {
        const { url } = deleting;
        setDeleting(null);
        await onDeleted(url);
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }

  return (
    <Panel title="Receivers" flush>
      {subscriptions.length === 0 ? (
        <EmptyState title="No webhooks yet">Add one above to stream the audit log.</EmptyState>
      ) : (
        <DataTable
          caption="Webhook receivers"
          columns={["Receiver", "Events", "Delivered through", "State"]}
          unlabelledColumn="Actions"
        >
          {subscriptions.map((s) => (
            <tr key={s.id} data-webhook={s.url}>
              <td>
                <code className={ui.code}>{s.url}</code>
                <div>
                  added <Time iso={s.createdAt} />
                </div>
              </td>
              <td>{s.eventTypes.length ? s.eventTypes.join(", ") : "every event"}</td>
              <td>
                position {s.deliveredThroughPosition}
                <div>
                  <Time iso={s.lastDeliveredAt} fallback="nothing delivered yet" />
                </div>
              </td>
              <td>
                {s.failedAttempts > 0 ? (
                  <>
                    <Badge tone="danger">
                      {s.failedAttempts} failed {s.failedAttempts === 1 ? "attempt" : "attempts"}
                    </Badge>
                    <div>{s.lastError}</div>
                    {s.nextAttemptAt ? (
                      <div>
                        next try <Time iso={s.nextAttemptAt} />
                      </div>
                    ) : null}
                  </>
                ) : (
                  <Badge tone="success">delivering</Badge>
                )}
              </td>
              <td style={{ textAlign: "right" }}>
                <Button small variant="dangerOutline" onClick={() => setDeleting(s)}>
                  Delete <span className="visually-hidden">{s.url}</span>
                </Button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the webhook to ${deleting?.url ?? ""}?`}
        confirmLabel="Delete webhook"
        tone="danger"
        busy={busy}
        error={error}
        onCancel={() => {
          setDeleting(null);
          setError(undefined);
        }}
        onConfirm={() => void remove()}
      >
        <p style={{ margin: 0 }}>
          Nothing more is sent to it. A webhook added later gets a new signing key.
        </p>
      </ConfirmDialog>
    </Panel>
  );
}
