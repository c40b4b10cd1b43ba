"use client";

import { useState, type FormEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  CONFIGURE_OAUTH_PROVIDER,
  CONNECT_OAUTH_CLIENT_CREDENTIALS,
  CREATE_CUSTOM_OAUTH_PROVIDER,
  DELETE_OAUTH_PROVIDER,
  DISCONNECT_OAUTH,
  OAUTH,
  START_OAUTH_AUTHORIZATION,
  type OAuthConnection,
  type OAuthProvider,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { sentence, splitIssues } from "../credentials/issues.ts";
import { useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { CopyButton } from "../ui/CopyButton.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { EmptyState } from "../ui/EmptyState.tsx";
import { Checkbox, SecretField, SelectField, TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";

type Message = { tone: "success" | "danger"; text: string };

export default function OAuthPage() {
  const shell = useShell();
  const workspaceId = toGlobalId("Workspace", shell.workspaceId!);
  const oauth = useQuery(OAUTH, { id: workspaceId });
  const [environment, setEnvironment] = useState("default");
  const [message, setMessage] = useState<Message>();
  const [busy, setBusy] = useState<string | null>(null);
  const [configuring, setConfiguring] = useState<OAuthProvider | null>(null);
  const [creatingCustom, setCreatingCustom] = useState(false);
  const [disconnecting, setDisconnecting] = useState<OAuthConnection | null>(null);
  const [deleting, setDeleting] = useState<OAuthProvider | null>(null);
  const [dialogError, setDialogError] = useState<string>();

  const ws = oauth.data?.workspace;
  const canManage = ws?.viewerPermissions.includes("OAUTH_MANAGE") ?? false;
  const canAdmin = ws?.viewerPermissions.includes("ADMIN") ?? false;

  async function connect(provider: OAuthProvider, env: string, kind: "USER" | "SERVICE") {
    setBusy(`${provider.providerId}:${kind}`);
    setMessage(undefined);
    const input = { workspaceId, providerId: provider.providerId, environment: env };
    try {
      if (kind === "USER") {
        const result = unwrap(
          (await request(START_OAUTH_AUTHORIZATION, { input })).startOAuthAuthorization,
        );
        if (!result.ok) setMessage({ tone: "danger", text: result.error.message });
        // The provider asks for consent, then sends the browser back to /oauth/callback.
        else return window.location.assign(result.data.authorizationUrl);
      } else {
        const result = unwrap(
          (await request(CONNECT_OAUTH_CLIENT_CREDENTIALS, { input }))
            .connectOAuthClientCredentials,
        );
        if (!result.ok) setMessage({ tone: "danger", text: result.error.message });
        else {
          // Announced once the list shows the new connection: acting on a row before then
          // would act on the one it replaced.
          await oauth.reload();
          setMessage({
            tone: "success",
            text: `Connected ${provider.name} in ${env} with its client credentials.`,
          });
        }
      }
    } catch (caught) {
      setMessage({ tone: "danger", text: toRequestError(caught).message });
    }
    setBusy(null);
  }

  async function disconnect() {
    if (!disconnecting) return;
    setBusy("disconnect");
    setDialogError(undefined);
    try {
      const result = unwrap(
        (await request(DISCONNECT_OAUTH, { connectionId: disconnecting.id, workspaceId }))
          .disconnectOAuth,
      );
      if (!result.ok) setDialogError(result.error.message);
      else {
        setMessage({
          tone: "success",
          text: `Disconnected ${disconnecting.providerId} in ${disconnecting.environment}.`,
        });
        setDisconnecting(null);
        oauth.reload();
      }
    } catch (caught) {
      setDialogError(toRequestError(caught).message);
    }
    setBusy(null);
  }

  async function deleteProvider() {
    if (!deleting) return;
    setBusy("delete");
    setDialogError(undefined);
    try {
      const result = unwrap(
        (await request(DELETE_OAUTH_PROVIDER, { providerId: deleting.providerId, workspaceId }))
          .deleteOAuthProvider,
      );
      if (!result.ok) setDialogError(result.error.message);
      else {
        setMessage({ tone: "success", text: `Removed ${deleting.name} and its connections.` });
        setDeleting(null);
        oauth.reload();
      }
    } catch (caught) {
      setDialogError(toRequestError(caught).message);
    }
    setBusy(null);
  }

  const providerOf = (id: string) => ws?.oauthProviders.find((p) => p.providerId === id);

  return (
    <>
      <PageHeader
        title="OAuth connections"
        description={
          <>
            Coffer holds OAuth tokens for the workspace and refreshes them before they expire.
            Actions use them like any credential, e.g.{" "}
            <code>{"${{ SECRETS.github_oauth.GITHUB_USER_TOKEN }}"}</code>. Tokens are never shown.
          </>
        }
        actions={
          canAdmin ? (
            <Button variant="primary" onClick={() => setCreatingCustom(true)}>
              Add custom provider
            </Button>
          ) : null
        }
      />
      <div className={ui.stack}>
        {message ? <Notice tone={message.tone}>{message.text}</Notice> : null}
        {oauth.error ? <QueryError error={oauth.error} retry={oauth.reload} /> : null}
        {!ws && !oauth.error ? <Loading label="Loading OAuth providers…" /> : null}
        {ws ? (
          <>
            <Panel
              title="Connections"
              description="Tokens Coffer currently holds for this workspace."
              flush
            >
              {ws.oauthConnections.length === 0 ? (
                <EmptyState title="No connections yet">
                  Configure a provider below, then connect it: you are sent to the provider to
                  consent, and come back here.
                </EmptyState>
              ) : (
                <DataTable
                  caption="OAuth connections"
                  columns={[
                    "Provider",
                    "Environment",
                    "Token",
                    "Status",
                    "Expires",
                    "Last used",
                    "Expression",
                  ]}
                  unlabelledColumn="Actions"
                >
                  {ws.oauthConnections.map((c) => {
                    const provider = providerOf(c.providerId);
                    return (
                      <tr key={c.id}>
                        <td>
                          <strong>{provider?.name ?? c.providerId}</strong>
                          <div className="muted">{c.scopes.join(" ") || "no scopes"}</div>
                        </td>
                        <td>
                          <code className={ui.code}>{c.environment}</code>
                        </td>
                        <td>
                          {c.kind === "USER"
                            ? "User (authorization code)"
                            : "Service (client credentials)"}
                        </td>
                        <td>
                          {c.needsReconnection ? (
                            <Badge tone="danger" title="The provider refused the refresh token">
                              Needs reconnection
                            </Badge>
                          ) : (
                            <Badge tone="success">Connected</Badge>
                          )}
                          <div className="muted" style={{ fontSize: "0.8rem" }}>
                            since <Time iso={c.connectedAt} />
                          </div>
                        </td>
                        <td>
                          <Time iso={c.expiresAt} fallback="No expiry" />
                        </td>
                        <td>
                          <Time iso={c.lastUsedAt} fallback="Never" />
                        </td>
                        <td>
                          <code className={ui.code}>{c.expression}</code>{" "}
                          <CopyButton text={c.expression} />
                        </td>
                        <td>
                          {canManage ? (
                            <div className={ui.pageActions}>
                              {provider ? (
                                <Button
                                  small
                                  variant={c.needsReconnection ? "primary" : "secondary"}
                                  busy={busy === `${provider.providerId}:${c.kind}`}
                                  onClick={() =>
                                    connect(
                                      provider,
                                      c.environment,
                                      c.kind === "USER" ? "USER" : "SERVICE",
                                    )
                                  }
                                >
                                  Reconnect
                                </Button>
                              ) : null}
                              <Button
                                small
                                variant="dangerOutline"
                                onClick={() => setDisconnecting(c)}
                              >
                                Disconnect
                              </Button>
                            </div>
                          ) : null}
                        </td>
                      </tr>
                    );
                  })}
                </DataTable>
              )}
            </Panel>
            <Panel
              title="Providers"
              description="Built-in providers need this workspace's OAuth client (client id and secret) before they connect."
              actions={
                <SelectField
                  label="Connect in environment"
                  value={environment}
                  onChange={(e) => setEnvironment(e.target.value)}
                >
                  {ws.environments.map((e) => (
                    <option key={e.name} value={e.name}>
                      {e.name}
                    </option>
                  ))}
                </SelectField>
              }
              flush
            >
              <DataTable
                caption="OAuth providers"
                columns={["Provider", "Grants", "Client"]}
                unlabelledColumn="Actions"
              >
                {ws.oauthProviders.map((p) => (
                  <tr key={p.providerId} data-provider={p.providerId}>
                    <td>
                      <strong>{p.name}</strong>{" "}
                      {p.builtin ? <Badge>built-in</Badge> : <Badge tone="accent">custom</Badge>}
                      <div className="muted">
                        <code>{p.providerId}</code>
                      </div>
                    </td>
                    <td>
                      {p.grantTypes
                        .map((g) =>
                          g === "authorization_code"
                            ? "user (authorization code)"
                            : "service (client credentials)",
                        )
                        .join(", ")}
                    </td>
                    <td>
                      {p.configured ? (
                        <>
                          <Badge tone="success">configured</Badge>
                          <div className="muted">
                            client <code>{p.clientId}</code>
                          </div>
                        </>
                      ) : (
                        <Badge>not configured</Badge>
                      )}
                    </td>
                    <td>
                      <div className={ui.pageActions} style={{ justifyContent: "flex-end" }}>
                        {canAdmin && p.builtin ? (
                          <Button small onClick={() => setConfiguring(p)}>
                            {p.configured ? "Change client" : "Configure"}
                          </Button>
                        ) : null}
                        {canManage &&
                        p.configured &&
                        p.grantTypes.includes("authorization_code") ? (
                          <Button
                            small
                            variant="primary"
                            busy={busy === `${p.providerId}:USER`}
                            onClick={() => connect(p, environment, "USER")}
                          >
                            Connect <span className="visually-hidden">{p.name}</span>
                          </Button>
                        ) : null}
                        {canManage &&
                        p.configured &&
                        p.grantTypes.includes("client_credentials") ? (
                          <Button
                            small
                            busy={busy === `${p.providerId}:SERVICE`}
                            onClick={() => connect(p, environment, "SERVICE")}
                          >
                            Connect service token
                          </Button>
                        ) : null}
                        {canAdmin && p.configured ? (
                          <Button small variant="ghost" onClick={() => setDeleting(p)}>
                            Remove
                          </Button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </DataTable>
            </Panel>
          </>
        ) : null}
      </div>
      {configuring ? (
        <ConfigureProviderDialog
          provider={configuring}
          workspaceId={workspaceId}
          onClose={(saved) => {
            setConfiguring(null);
            if (saved) {
              setMessage({
                tone: "success",
                text: `${saved} is configured. Connect it to get a token.`,
              });
              oauth.reload();
            }
          }}
        />
      ) : null}
      {creatingCustom ? (
        <CustomProviderDialog
          workspaceId={workspaceId}
          onClose={(saved) => {
            setCreatingCustom(false);
            if (saved) {
              setMessage({ tone: "success", text: `Added the provider ${saved}.` });
              oauth.reload();
            }
          }}
        />
      ) : null}
      <ConfirmDialog
        open={disconnecting !== null}
        title="Disconnect?"
        confirmLabel="Disconnect"
        tone="danger"
        busy={busy === "disconnect"}
        error={dialogError}
        onCancel={() => {
          setDisconnecting(null);
          setDialogError(undefined);
        }}
        onConfirm={disconnect}
      >
        <p style={{ margin: 0 }}>
          Coffer forgets the tokens of {disconnecting?.providerId} in {disconnecting?.environment};
          actions that use <code>{disconnecting?.expression}</code> fail until it is connected
          again.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Remove ${deleting?.name ?? ""}?`}
        confirmLabel="Remove provider"
        tone="danger"
        busy={busy === "delete"}
        error={dialogError}
        onCancel={() => {
          setDeleting(null);
          setDialogError(undefined);
        }}
        onConfirm={deleteProvider}
      >
        <p style={{ margin: 0 }}>
          Its client configuration is removed and its connections are disconnected.
        </p>
      </ConfirmDialog>
    </>
  );
}

function scopesOf(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function ConfigureProviderDialog({
  provider,
  workspaceId,
  onClose,
}: {
  provider: OAuthProvider;
  workspaceId: string;
  onClose: (saved?: string) => void;
}) {
  const [clientId, setClientId] = useState(provider.clientId ?? "");
  const [clientSecret, setClientSecret] = useState("");
  const [scopes, setScopes] = useState(provider.defaultScopes.join(" "));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);

  async function save() {
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap(
        (
          await request(CONFIGURE_OAUTH_PROVIDER, {
            input: {
              workspaceId,
              providerId: provider.providerId,
              clientId: clientId.trim(),
              clientSecret,
              defaultScopes: scopesOf(scopes),
            },
          })
        ).configureOAuthProvider,
      );
      if (!result.ok) setError(result.error);
      else onClose(provider.name);
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
    }
    setBusy(false);
  }

  return (
    <ConfirmDialog
      open
      title={`Configure ${provider.name}`}
      confirmLabel="Save client"
      busy={busy}
      error={
        error && (general.length || !error.issues?.length)
          ? general.length
            ? general.map(sentence).join(" ")
            : error.message
          : undefined
      }
      onCancel={() => onClose()}
      onConfirm={save}
    >
      <div className={ui.stack}>
        <TextField
          label="Client id"
          requiredMark
          value={clientId}
          onChange={(e) => setClientId(e.target.value)}
          error={fields.clientId}
        />
        <SecretField
          label="Client secret"
          requiredMark
          value={clientSecret}
          onChange={(e) => setClientSecret(e.target.value)}
          hint="Write-only: stored encrypted, never shown again."
          error={fields.clientSecret}
        />
        <TextField
          label="Default scopes"
          optionalMark
          value={scopes}
          onChange={(e) => setScopes(e.target.value)}
          hint="Separated by spaces."
        />
      </div>
    </ConfirmDialog>
  );
}

function CustomProviderDialog({
  workspaceId,
  onClose,
}: {
  workspaceId: string;
  onClose: (saved?: string) => void;
}) {
  const [name, setName] = useState("");
  const [authorizationEndpoint, setAuthorizationEndpoint] = useState("");
  const [tokenEndpoint, setTokenEndpoint] = useState("");
  const [clientId, setClientId] = useState("");
  const [clientSecret, setClientSecret] = useState("");
  const [scopes, setScopes] = useState("");
  const [authorizationCode, setAuthorizationCode] = useState(true);
  const [clientCredentials, setClientCredentials] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);

  async function save(event?: FormEvent) {
    event?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap(
        (
          await request(CREATE_CUSTOM_OAUTH_PROVIDER, {
            input: {
              workspaceId,
              name: name.trim(),
              clientId: clientId.trim(),
              clientSecret,
              tokenEndpoint: tokenEndpoint.trim(),
              ...(authorizationEndpoint.trim()
                ? { authorizationEndpoint: authorizationEndpoint.trim() }
                : {}),
              grantTypes: [
                ...(authorizationCode ? ["authorization_code"] : []),
                ...(clientCredentials ? ["client_credentials"] : []),
              ],
              defaultScopes: scopesOf(scopes),
            },
          })
        ).createCustomOAuthProvider,
      );
      if (!result.ok) setError(result.error);
      else onClose(result.data.providerId);
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
    }
    setBusy(false);
  }

  return (
    <ConfirmDialog
      open
      title="Add a custom OAuth provider"
      confirmLabel="Add provider"
      busy={busy}
      error={
        error && (general.length || !error.issues?.length)
          ? general.length
            ? general.map(sentence).join(" ")
            : error.message
          : undefined
      }
      onCancel={() => onClose()}
      onConfirm={save}
    >
      <div className={ui.stack}>
        <TextField
          label="Name"
          requiredMark
          value={name}
          onChange={(e) => setName(e.target.value)}
          hint="Its id becomes custom_ + the name's slug, e.g. My App → custom_my_app."
          error={fields.name}
        />
        <TextField
          label="Authorization endpoint"
          type="url"
          value={authorizationEndpoint}
          onChange={(e) => setAuthorizationEndpoint(e.target.value)}
          hint="HTTPS; needed for user tokens."
          error={fields.authorizationEndpoint}
        />
        <TextField
          label="Token endpoint"
          requiredMark
          type="url"
          value={tokenEndpoint}
          onChange={(e) => setTokenEndpoint(e.target.value)}
          hint="HTTPS."
          error={fields.tokenEndpoint}
        />
        <TextField
          label="Client id"
          requiredMark
          value={clientId}
          onChange={(e) => setClientId(e.target.value)}
          error={fields.clientId}
        />
        <SecretField
          label="Client secret"
          requiredMark
          value={clientSecret}
          onChange={(e) => setClientSecret(e.target.value)}
          hint="Write-only: stored encrypted, never shown again."
          error={fields.clientSecret}
        />
        <TextField
          label="Default scopes"
          optionalMark
          value={scopes}
          onChange={(e) => setScopes(e.target.value)}
          hint="Separated by spaces."
        />
        <Checkbox
          label="User tokens (authorization code with PKCE)"
          checked={authorizationCode}
          onChange={(e) => setAuthorizationCode(e.target.checked)}
        />
        <Checkbox
          label="Service tokens (client credentials)"
          checked={clientCredentials}
          onChange={(e) => setClientCredentials(e.target.checked)}
        />
        {fields.grantTypes ? <p className={ui.error}>{fields.grantTypes}</p> : null}
      </div>
    </ConfirmDialog>
  );
}
