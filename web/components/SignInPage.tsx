"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import styles from "../app/page.module.css";
import { request, unwrap } from "../lib/graphql.ts";
import { SIGN_IN, START_SSO, VIEWER, type ViewerData } from "../lib/operations.ts";
import { toRequestError } from "../lib/useQuery.ts";
import { homeOf } from "./shell/AppShell.tsx";
import { Button } from "./ui/Button.tsx";
import { TextField } from "./ui/Field.tsx";
import { Loading } from "./ui/Loading.tsx";
import { Notice } from "./ui/Notice.tsx";

/** Only console paths: `?next=` must never send someone to another site after sign-in. */
function safeNext(): string | null {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && /^\/(?!\/)[\w\-./]*$/.test(next) ? next : null;
}

function destination(viewer: ViewerData["viewer"]): string {
  const next = safeNext();
  if (next && next !== "/") return next;
  const first = viewer.organizations[0];
  return first ? homeOf(first) : "/";
}

export default function SignInPage() {
  const router = useRouter();
  const [checking, setChecking] = useState(true);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  // Two-factor sign-in: asked for once the password was right (MfaRequiredError).
  const [needsCode, setNeedsCode] = useState(false);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [noOrganization, setNoOrganization] = useState(false);
  // Single sign-on: the organization's slug, then off to its identity provider.
  const [sso, setSso] = useState(false);
  const [slug, setSlug] = useState("");

  // Someone already signed in goes straight to their console.
  useEffect(() => {
    let cancelled = false;
    request(VIEWER).then(
      ({ viewer }) => {
        if (cancelled) return;
        if (viewer.organizations.length) router.replace(destination(viewer));
        else {
          setNoOrganization(true);
          setChecking(false);
        }
      },
      () => !cancelled && setChecking(false),
    );
    return () => {
      cancelled = true;
    };
  }, [router]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { signIn } = await request(SIGN_IN, {
        input: { email: email.trim(), password, ...(needsCode ? { mfaCode: code.trim() } : {}) },
      });
      if (signIn.__typename === "MfaRequiredError") {
        setNeedsCode(true);
        setBusy(false);
        return;
      }
      if (signIn.__typename !== "MutationSignInSuccess") {
        setError(signIn.message ?? "The email or password is not right.");
        setCode("");
        setBusy(false);
        return;
      }
      setPassword("");
      setCode("");
      const { viewer } = await request(VIEWER);
      if (!viewer.organizations.length) {
        setNoOrganization(true);
        setBusy(false);
        return;
      }
      router.replace(destination(viewer));
    } catch (caught) {
      setError(toRequestError(caught).message);
      setBusy(false);
    }
  }

  async function onSso(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = unwrap((await request(START_SSO, { slug: slug.trim() })).startSingleSignOn);
      if (!result.ok) {
        setError(
          result.error.code === "NOT_FOUND"
            ? "That organization has no single sign-on. Check its name with your administrator."
            : result.error.message,
        );
        setBusy(false);
        return;
      }
      window.location.assign(result.data.authorizationUrl);
    } catch (caught) {
      setError(toRequestError(caught).message);
      setBusy(false);
    }
  }

  return (
    <main className={styles.main}>
      <section className={styles.card} aria-labelledby="sign-in-title">
        <p className={styles.brand}>
          <span className={styles.logo} aria-hidden="true">
            C
          </span>
          Coffer
        </p>
        {checking ? (
          <Loading label="Checking your session…" />
        ) : noOrganization ? (
          <Notice tone="info" title="You are signed in, but not a member of any organization">
            Ask an organization owner to add you, then reload this page.
          </Notice>
        ) : (
          <>
            <h1 id="sign-in-title" className={styles.title}>
              Sign in
            </h1>
            <p className={styles.subtitle}>
              Manage credentials, OAuth connections and the audit log.
            </p>
            {sso ? (
              <form className={styles.form} onSubmit={onSso} aria-label="Single sign-on">
                <TextField
                  label="Organization"
                  hint="Its short name, as your administrator gave it (for example acme)"
                  name="organization"
                  autoComplete="organization"
                  autoFocus
                  required
                  value={slug}
                  onChange={(e) => setSlug(e.target.value)}
                />
                {error ? <Notice tone="danger">{error}</Notice> : null}
                <Button type="submit" variant="primary" busy={busy}>
                  {busy ? "Opening your identity provider…" : "Continue with single sign-on"}
                </Button>
                <Button
                  onClick={() => {
                    setSso(false);
                    setError(undefined);
                  }}
                >
                  Sign in with a password instead
                </Button>
              </form>
            ) : (
              <form className={styles.form} method="post" onSubmit={onSubmit} noValidate={false}>
                <TextField
                  label="Email"
                  type="email"
                  name="email"
                  autoComplete="username"
                  inputMode="email"
                  required
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                />
                <TextField
                  label="Password"
                  type="password"
                  name="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
                {needsCode ? (
                  <TextField
                    label="Authentication code"
                    hint="The 6-digit code from your authenticator app, or one of your recovery codes"
                    name="mfaCode"
                    autoComplete="one-time-code"
                    autoFocus
                    required
                    value={code}
                    onChange={(e) => setCode(e.target.value)}
                  />
                ) : null}
                {error ? <Notice tone="danger">{error}</Notice> : null}
                <Button type="submit" variant="primary" busy={busy}>
                  {busy ? "Signing in…" : "Sign in"}
                </Button>
              </form>
            )}
            {!sso ? (
              <Button
                onClick={() => {
                  setSso(true);
                  setError(undefined);
                }}
              >
                Use single sign-on
              </Button>
            ) : null}
            <p className={styles.footnote}>
              The first-run login is printed once by <code>npm start</code>.
            </p>
          </>
        )}
      </section>
    </main>
  );
}
