"use client";

import { useState, type FormEvent } from "react";
import { request, unwrap } from "../../lib/graphql.ts";
import { toGlobalId } from "../../lib/ids.ts";
import {
  BEGIN_TOTP,
  CONFIRM_TOTP,
  DISABLE_TOTP,
  MFA_STATUS,
  MY_SESSIONS,
  REVOKE_SESSION,
  ORGANIZATION_MFA,
  REGENERATE_RECOVERY_CODES,
  SET_ORGANIZATION_MFA,
  CHANGE_PASSWORD,
} from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { isOrgAdmin, useShell } from "../shell/ShellContext.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { DataTable } from "../ui/DataTable.tsx";
import { Time } from "../ui/Time.tsx";
import { CopyButton } from "../ui/CopyButton.tsx";
import { TextField } from "../ui/Field.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { PageHeader, Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import ui from "../ui/ui.module.css";

/** Runs one mutation from a form: busy state, the server's message on refusal. */
function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  async function run(action: () => Promise<string | null>) {
    setBusy(true);
    setError(undefined);
    try {
      const failure = await action();
      if (failure) setError(failure);
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(false);
  }
  return { busy, error, run };
}

export default function AccountPage() {
  const shell = useShell();
  const status = useQuery(MFA_STATUS, {});
  const [codes, setCodes] = useState<string[] | null>(null);
  const [generation, setGeneration] = useState(0);
  const mfa = status.data?.viewer.mfa;
  return (
    <>
      <PageHeader
        title="Your account"
        description="Two-factor sign-in asks for a code from an authenticator app after your password."
      />
      <div className={ui.stack}>
        {status.error ? <QueryError error={status.error} retry={status.reload} /> : null}
        {!mfa && !status.error ? <Loading label="Loading your account…" /> : null}
        {codes ? (
          <RecoveryCodes
            codes={codes}
            onDone={() => {
              setCodes(null);
              status.reload();
            }}
          />
        ) : mfa?.enabled ? (
          <TwoFactorOn
            remaining={mfa.recoveryCodesRemaining}
            onCodes={setCodes}
            onOff={status.reload}
          />
        ) : mfa ? (
          <Enroll onEnabled={setCodes} />
        ) : null}
        {/* A changed password ends the other sessions: the list reloads. */}
        <ChangePassword onChanged={() => setGeneration((g) => g + 1)} />
        <Sessions key={generation} />
        {isOrgAdmin(shell) ? (
          <OrganizationRule
            organizationId={toGlobalId("Organization", shell.organizationId)}
            sessionVerified={status.data?.viewer.sessionMfaVerified ?? false}
          />
        ) : null}
      </div>
    </>
  );
}

function Enroll({ onEnabled }: { onEnabled: (codes: string[]) => void }) {
  const [password, setPassword] = useState("");
  const [seed, setSeed] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [code, setCode] = useState("");
  const submit = useSubmit();

  const begin = (event: FormEvent) => {
    event.preventDefault();
    void submit.run(async () => {
      const result = unwrap(
        (await request(BEGIN_TOTP, { input: { password } })).beginTotpEnrollment,
      );
      if (!result.ok) return result.error.message;
      setPassword("");
      setSeed(result.data);
      return null;
    });
  };
  const confirm = (event: FormEvent) => {
    event.preventDefault();
    void submit.run(async () => {
      const result = unwrap(
        (await request(CONFIRM_TOTP, { input: { code: code.trim() } })).confirmTotpEnrollment,
      );
      if (!result.ok) return result.error.message;
      onEnabled(result.data.codes);
      return null;
    });
  };

  return (
    <Panel
      title={
        <>
          Two-factor sign-in <Badge tone="neutral">Off</Badge>
        </>
      }
      description="Use any TOTP app (1Password, Authy, Google Authenticator, a hardware key's app)."
    >
      {seed ? (
        <form className={ui.stack} onSubmit={confirm}>
          <p>
            Add this key to your authenticator app (it is shown once), then enter the code the app
            shows.
          </p>
          <p>
            <code className={ui.code} data-testid="totp-secret">
              {seed.secret}
            </code>{" "}
            <CopyButton text={seed.secret} label="Copy key" />{" "}
            <CopyButton text={seed.otpauthUri} label="Copy otpauth:// link" />
          </p>
          <TextField
            label="Code from the app"
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          {submit.error ? <Notice tone="danger">{submit.error}</Notice> : null}
          <div className={ui.row}>
            <Button type="submit" variant="primary" busy={submit.busy}>
              Turn on two-factor sign-in
            </Button>
          </div>
        </form>
      ) : (
        <form className={ui.stack} onSubmit={begin}>
          <TextField
            label="Your password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {submit.error ? <Notice tone="danger">{submit.error}</Notice> : null}
          <div className={ui.row}>
            <Button type="submit" variant="primary" busy={submit.busy}>
              Set up an authenticator app
            </Button>
          </div>
        </form>
      )}
    </Panel>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <Panel title="Your recovery codes">
      <Notice tone="warning" title="Shown once: keep them somewhere safe, offline">
        Each code signs you in once instead of the app&apos;s code, if you lose your phone.
      </Notice>
      <ul className={ui.codeList} aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code className={ui.code}>{c}</code>
          </li>
        ))}
      </ul>
      <p>
        <CopyButton text={codes.join("\n")} label="Copy all codes" small={false} />{" "}
        <Button onClick={onDone}>I have saved them</Button>
      </p>
    </Panel>
  );
}

function TwoFactorOn({
  remaining,
  onCodes,
  onOff,
}: {
  remaining: number;
  onCodes: (codes: string[]) => void;
  onOff: () => void;
}) {
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [offCode, setOffCode] = useState("");
  const regenerate = useSubmit();
  const disable = useSubmit();
  return (
    <Panel
      title={
        <>
          Two-factor sign-in <Badge tone="success">On</Badge>
        </>
      }
      description={`${remaining} of 10 recovery codes left.`}
    >
      <div className={ui.stack}>
        <h3>Recovery codes</h3>
        <form
          className={ui.stack}
          onSubmit={(event) => {
            event.preventDefault();
            void regenerate.run(async () => {
              const result = unwrap(
                (await request(REGENERATE_RECOVERY_CODES, { input: { code: code.trim() } }))
                  .regenerateRecoveryCodes,
              );
              if (!result.ok) return result.error.message;
              onCodes(result.data.codes);
              return null;
            });
          }}
        >
          <TextField
            label="Code from the app"
            hint="New recovery codes replace the old ones"
            name="regenerateCode"
            autoComplete="one-time-code"
            inputMode="numeric"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          {regenerate.error ? <Notice tone="danger">{regenerate.error}</Notice> : null}
          <div className={ui.row}>
            <Button type="submit" busy={regenerate.busy}>
              New recovery codes
            </Button>
          </div>
        </form>
        <h3>Turn off</h3>
        <form
          className={ui.stack}
          onSubmit={(event) => {
            event.preventDefault();
            void disable.run(async () => {
              const result = unwrap(
                (await request(DISABLE_TOTP, { input: { password, code: offCode.trim() } }))
                  .disableTotp,
              );
              if (!result.ok) return result.error.message;
              onOff();
              return null;
            });
          }}
        >
          <TextField
            label="Your password"
            type="password"
            name="disablePassword"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <TextField
            label="Code from the app, or a recovery code"
            name="disableCode"
            autoComplete="one-time-code"
            required
            value={offCode}
            onChange={(e) => setOffCode(e.target.value)}
          />
          {disable.error ? <Notice tone="danger">{disable.error}</Notice> : null}
          <div className={ui.row}>
            <Button type="submit" variant="danger" busy={disable.busy}>
              Turn off two-factor sign-in
            </Button>
          </div>
        </form>
      </div>
    </Panel>
  );
}

function OrganizationRule({
  organizationId,
  sessionVerified,
}: {
  organizationId: string;
  sessionVerified: boolean;
}) {
  const query = useQuery(ORGANIZATION_MFA, { id: organizationId });
  const submit = useSubmit();
  const required = query.data?.organization?.requireMfa;
  return (
    <Panel
      title="Organization sign-in rule"
      description="When required, members act in this organization only from sessions opened with a second factor. API tokens are not affected."
    >
      {query.error ? <QueryError error={query.error} retry={query.reload} /> : null}
      {required === undefined ? null : (
        <>
          <p>
            Two-factor sign-in is{" "}
            <strong data-testid="org-mfa">{required ? "required" : "not required"}</strong> for
            members.
          </p>
          {!required && !sessionVerified ? (
            <Notice>
              To require it, turn it on for yourself and sign in again with a code first.
            </Notice>
          ) : null}
          {submit.error ? <Notice tone="danger">{submit.error}</Notice> : null}
          <Button
            busy={submit.busy}
            onClick={() =>
              void submit.run(async () => {
                const result = unwrap(
                  (
                    await request(SET_ORGANIZATION_MFA, {
                      input: { organizationId, required: !required },
                    })
                  ).setOrganizationMfaRequirement,
                );
                if (!result.ok) return result.error.message;
                query.reload();
                return null;
              })
            }
          >
            {required ? "Stop requiring two-factor sign-in" : "Require two-factor sign-in"}
          </Button>
        </>
      )}
    </Panel>
  );
}

/** The user's console sessions: another browser or a lost laptop is signed out from here. */
/** A new password; the server ends the user's other sessions (this one goes on). */
function ChangePassword({ onChanged }: { onChanged: () => void }) {
  const submit = useSubmit();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [done, setDone] = useState(false);
  return (
    <Panel
      title="Password"
      description="Changing it signs you out everywhere else. An account made by single sign-on has none."
    >
      <form
        aria-label="Password change"
        onSubmit={(event) => {
          event.preventDefault();
          setDone(false);
          void submit.run(async () => {
            if (next !== repeat) return "The two new passwords are not the same.";
            const result = unwrap(
              (
                await request(CHANGE_PASSWORD, {
                  input: { currentPassword: current, newPassword: next },
                })
              ).changePassword,
            );
            if (!result.ok) return result.error.message;
            setCurrent("");
            setNext("");
            setRepeat("");
            setDone(true);
            onChanged();
            return null;
          });
        }}
      >
        <div className={ui.stack}>
          {done ? (
            <Notice tone="success">Password changed. Your other sessions were signed out.</Notice>
          ) : null}
          {submit.error ? <Notice tone="danger">{submit.error}</Notice> : null}
          <div className={ui.row}>
            <div style={{ flex: "1 1 12rem" }}>
              <TextField
                label="Current password"
                type="password"
                autoComplete="current-password"
                value={current}
                onChange={(e) => setCurrent(e.target.value)}
              />
            </div>
            <div style={{ flex: "1 1 12rem" }}>
              <TextField
                label="New password"
                type="password"
                autoComplete="new-password"
                hint="At least 12 characters"
                value={next}
                onChange={(e) => setNext(e.target.value)}
              />
            </div>
            <div style={{ flex: "1 1 12rem" }}>
              <TextField
                label="Repeat the new password"
                type="password"
                autoComplete="new-password"
                value={repeat}
                onChange={(e) => setRepeat(e.target.value)}
              />
            </div>
          </div>
          <div>
            <Button type="submit" busy={submit.busy}>
              {submit.busy ? "Changing…" : "Change password"}
            </Button>
          </div>
        </div>
      </form>
    </Panel>
  );
}

function Sessions() {
  const query = useQuery(MY_SESSIONS, {});
  const submit = useSubmit();
  const sessions = query.data?.viewer.sessions;
  return (
    <Panel
      title="Where you are signed in"
      description="Console sessions that still work. Signing one out stops its cookie at once; API tokens are separate."
      flush
    >
      {query.error ? <QueryError error={query.error} retry={query.reload} /> : null}
      {submit.error ? <Notice tone="danger">{submit.error}</Notice> : null}
      {sessions ? (
        <DataTable
          caption="Your console sessions"
          columns={["Signed in", "Last seen", "Expires"]}
          unlabelledColumn="Actions"
        >
          {sessions.map((s) => (
            <tr key={s.id} data-session={s.current ? "current" : "other"}>
              <td>
                <Time iso={s.createdAt} />{" "}
                {s.current ? <Badge tone="accent">This browser</Badge> : null}
              </td>
              <td>
                <Time iso={s.lastSeenAt} />
              </td>
              <td>
                <Time iso={s.expiresAt} />
              </td>
              <td>
                {s.current ? null : (
                  <Button
                    small
                    variant="dangerOutline"
                    busy={submit.busy}
                    onClick={() =>
                      void submit.run(async () => {
                        const result = unwrap(
                          (await request(REVOKE_SESSION, { id: s.id })).revokeSession,
                        );
                        if (!result.ok) return result.error.message;
                        query.reload();
                        return null;
                      })
                    }
                  >
                    Sign out
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {!sessions && !query.error ? <Loading label="Loading your sessions…" /> : null}
    </Panel>
  );
}
