"use client";

import { useState, type FormEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  CONFIGURE_SSO,
  ORGANIZATION_SSO,
  REMOVE_SSO,
  type OrgRole,
  type SingleSignOn,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { sentence, splitIssues } from "../credentials/issues.ts";
import { isOrgAdmin, useShell } from "../shell/ShellContext.ts";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { Checkbox, SecretField, SelectField, TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import ui from "../ui/ui.module.css";

/**
 * The organization's identity provider (OpenID Connect) for console sign-in. Admins set
 * it; the client secret is write-only (kept when left empty on a later change).
 */
export default function SingleSignOnPage() {
  const shell = useShell();
  const orgId = toGlobalId("Organization", shell.organizationId);
  const query = useQuery(ORGANIZATION_SSO, { id: orgId });
  const [saved, setSaved] = useState(false);
  const [removed, setRemoved] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<string>();
  const org = query.data?.organization;

  async function remove() {
    setRemoving(true);
    setRemoveError(undefined);
    try {
      const result = unwrap((await request(REMOVE_SSO, { id: orgId })).removeSingleSignOn);
      if (!result.ok) setRemoveError(result.error.message);
      else {
        await query.reload();
        setConfirming(false);
        setSaved(false);
        setRemoved(true);
      }
    } catch (caught) {
      setRemoveError(toRequestError(caught).message);
    }
    setRemoving(false);
  }

  return (
    <>
      <PageHeader
        title="Single sign-on"
        description="Members sign in with your organization's identity provider (OpenID Connect)."
      />
      <div className={ui.stack}>
        {!isOrgAdmin(shell) ? (
          <Notice>Only organization admins set up single sign-on.</Notice>
        ) : query.error ? (
          <QueryError error={query.error} retry={query.reload} />
        ) : !org ? (
          <Loading label="Loading single sign-on…" />
        ) : (
          <>
            {removed && !org.singleSignOn ? (
              <Notice tone="success">
                Single sign-on removed: members sign in with their passwords again.
              </Notice>
            ) : null}
            {saved ? (
              <Notice tone="success" title="Single sign-on saved">
                Members choose “Use single sign-on” on the sign-in page and type{" "}
                <code>{org.slug}</code>.
              </Notice>
            ) : null}
            <SsoForm
              key={org.singleSignOn?.updatedAt ?? "new"}
              organizationId={orgId}
              current={org.singleSignOn}
              onSaved={() => {
                setSaved(true);
                setRemoved(false);
                void query.reload();
              }}
            />
            {org.singleSignOn ? (
              <div>
                <Button variant="dangerOutline" onClick={() => setConfirming(true)}>
                  Remove single sign-on
                </Button>
              </div>
            ) : null}
            <ConfirmDialog
              open={confirming}
              title="Remove single sign-on?"
              confirmLabel="Remove single sign-on"
              tone="danger"
              busy={removing}
              error={removeError}
              onCancel={() => {
                setConfirming(false);
                setRemoveError(undefined);
              }}
              onConfirm={() => void remove()}
            >
              <p style={{ margin: 0 }}>
                Members sign in with passwords again. Accounts single sign-on created have no
                password: they cannot sign in until it is set up again. Sessions it opened keep
                working until they end.
              </p>
            </ConfirmDialog>
          </>
        )}
      </div>
    </>
  );
}

function SsoForm({
  organizationId,
  current,
  onSaved,
}: {
  organizationId: string;
  current: SingleSignOn | null;
  onSaved: () => void;
}) {
  const [issuer, setIssuer] = useState(current?.issuer ?? "");
  const [clientId, setClientId] = useState(current?.clientId ?? "");
  const [clientSecret, setClientSecret] = useState("");
  const [domains, setDomains] = useState(current?.emailDomains.join(", ") ?? "");
  const [role, setRole] = useState<OrgRole>(current?.defaultRole ?? "MEMBER");
  const [required, setRequired] = useState(current?.required ?? false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap(
        (
          await request(CONFIGURE_SSO, {
            input: {
              organizationId,
              issuer: issuer.trim(),
              clientId: clientId.trim(),
              ...(clientSecret ? { clientSecret } : {}),
              emailDomains: domains
                .split(/[\s,]+/)
                .map((d) => d.trim())
                .filter(Boolean),
              defaultRole: role,
              required,
            },
          })
        ).configureSingleSignOn,
      );
      if (!result.ok) setError(result.error);
      else {
        setClientSecret("");
        onSaved();
      }
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
    }
    setBusy(false);
  }

  return (
    <Panel
      title={current ? "Identity provider" : "Set up an identity provider"}
      description={`Register Coffer at your provider with the redirect URI ${typeof window === "undefined" ? "" : window.location.origin}/auth/sso/callback and the scopes openid, email and profile.`}
    >
      <form onSubmit={onSubmit} aria-label="Single sign-on" noValidate>
        <div className={ui.stack}>
          {error && (general.length || !error.issues?.length) ? (
            <Notice
              tone="danger"
              title="Single sign-on was not saved"
              details={(general.length ? general : [error.message]).map(sentence)}
            />
          ) : null}
          <TextField
            label="Issuer"
            requiredMark
            hint="Its OpenID configuration is read from /.well-known/openid-configuration"
            value={issuer}
            onChange={(e) => setIssuer(e.target.value)}
            placeholder="https://login.example.com"
            error={fields.issuer}
            autoComplete="off"
          />
          <div className={ui.row}>
            <div style={{ flex: "1 1 14rem" }}>
              <TextField
                label="Client id"
                requiredMark
                value={clientId}
                onChange={(e) => setClientId(e.target.value)}
                error={fields.clientId}
                autoComplete="off"
              />
            </div>
            <div style={{ flex: "1 1 14rem" }}>
              <SecretField
                label="Client secret"
                requiredMark={!current}
                hint={current ? "Leave empty to keep the stored one" : undefined}
                value={clientSecret}
                onChange={(e) => setClientSecret(e.target.value)}
                error={fields.clientSecret}
              />
            </div>
          </div>
          <div className={ui.row}>
            <div style={{ flex: "1 1 14rem" }}>
              <TextField
                label="Email domains"
                requiredMark
                hint="Only verified addresses of these domains sign in (comma-separated)"
                value={domains}
                onChange={(e) => setDomains(e.target.value)}
                placeholder="example.com"
                error={fields.emailDomains}
                autoComplete="off"
              />
            </div>
            <div style={{ flex: "1 1 14rem" }}>
              <SelectField
                label="Role of someone new"
                hint="A pending invitation's role comes first"
                value={role}
                onChange={(e) => setRole(e.target.value as OrgRole)}
              >
                <option value="MEMBER">Member</option>
                <option value="ADMIN">Admin</option>
              </SelectField>
            </div>
          </div>
          <Checkbox
            label="Require single sign-on"
            hint="Members act in the organization only after signing in with it. Owners keep their password, so a broken provider cannot lock you out."
            checked={required}
            onChange={(e) => setRequired(e.target.checked)}
          />
          <div>
            <Button type="submit" variant="primary" busy={busy}>
              {busy ? "Checking the provider…" : "Save single sign-on"}
            </Button>
          </div>
        </div>
      </form>
    </Panel>
  );
}
