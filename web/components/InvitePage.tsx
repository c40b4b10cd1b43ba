"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import styles from "../app/page.module.css";
import { request, unwrap } from "../lib/graphql.ts";
import { toLocalId } from "../lib/ids.ts";
import {
  ACCEPT_INVITATION,
  INVITATION_PREVIEW,
  SIGN_OUT,
  VIEWER,
  type InvitationPreview,
  type User,
} from "../lib/operations.ts";
import { toRequestError } from "../lib/useQuery.ts";
import { Button } from "./ui/Button.tsx";
import { TextField } from "./ui/Field.tsx";
import { Loading } from "./ui/Loading.tsx";
import { Notice } from "./ui/Notice.tsx";

const MIN_PASSWORD = 12;

type Loaded = { token: string; invitation: InvitationPreview | null; user: User | null };

const KEPT = "coffer.invitation";

/**
 * The link's secret is after `#`: browsers never send it to a server or in a Referer. It is
 * kept in this tab's sessionStorage while the invitee signs in and comes back (`?next=`),
 * and dropped once accepted.
 */
function takeToken(): string {
  const fromLink = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  if (fromLink) window.sessionStorage.setItem(KEPT, fromLink);
  // The secret leaves the address bar (and the history entry) once it is read.
  window.history.replaceState(null, "", window.location.pathname);
  return fromLink || window.sessionStorage.getItem(KEPT) || "";
}

/**
 * Where an invitation link lands. Signed out, an address without an account sets its
 * password here and is signed in; an address with an account signs in first. Signed in as
 * the invited address, one click joins.
 */
export default function InvitePage() {
  const router = useRouter();
  const [loaded, setLoaded] = useState<Loaded>();
  const [failure, setFailure] = useState<string>();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const token = takeToken();
    let cancelled = false;
    Promise.all([
      token ? request(INVITATION_PREVIEW, { token }) : Promise.resolve({ invitation: null }),
      request(VIEWER).then(
        ({ viewer }) => viewer.user,
        () => null,
      ),
    ]).then(
      ([{ invitation }, user]) => !cancelled && setLoaded({ token, invitation, user }),
      (caught: unknown) => !cancelled && setFailure(toRequestError(caught).message),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  async function accept(event?: FormEvent<HTMLFormElement>) {
    event?.preventDefault();
    if (!loaded) return;
    setError(undefined);
    if (!loaded.user && password !== repeat) {
      setError("The two passwords are not the same.");
      return;
    }
    setBusy(true);
    try {
      const result = unwrap(
        (
          await request(ACCEPT_INVITATION, {
            input: {
              token: loaded.token,
              ...(loaded.user ? {} : { password, ...(name.trim() ? { name: name.trim() } : {}) }),
            },
          })
        ).acceptInvitation,
      );
      if (!result.ok) {
        setError(result.error.message);
        setBusy(false);
        return;
      }
      setPassword("");
      setRepeat("");
      window.sessionStorage.removeItem(KEPT);
      router.replace(`/o/${toLocalId(result.data.id)}`);
    } catch (caught) {
      setError(toRequestError(caught).message);
      setBusy(false);
    }
  }

  async function signOut() {
    await request(SIGN_OUT).catch(() => undefined);
    setLoaded((current) => current && { ...current, user: null });
  }

  const invitation = loaded?.invitation;
  const unusable = invitation && invitation.status !== "PENDING";
  const wrongUser = invitation && loaded?.user && loaded.user.email !== invitation.email;

  return (
    <main className={styles.main}>
      <section className={styles.card} aria-labelledby="invite-title">
        <p className={styles.brand}>
          <span className={styles.logo} aria-hidden="true">
            C
          </span>
          Coffer
        </p>
        {failure ? <Notice tone="danger">{failure}</Notice> : null}
        {!loaded && !failure ? <Loading label="Opening the invitation…" /> : null}
        {loaded && !invitation ? (
          <>
            <h1 id="invite-title" className={styles.title}>
              This invitation link does not work
            </h1>
            <p className={styles.subtitle}>
              Check that you opened the whole link, or ask an administrator for a new one.
            </p>
          </>
        ) : null}
        {invitation ? (
          <>
            <h1 id="invite-title" className={styles.title}>
              Join {invitation.organizationName}
            </h1>
            <p className={styles.subtitle}>
              You are invited as <strong>{invitation.email}</strong>, with the role{" "}
              {invitation.role.toLowerCase()}.
            </p>
            {unusable ? (
              <Notice tone="warning" title="This invitation can no longer be used">
                {invitation.status === "ACCEPTED"
                  ? "It was already accepted."
                  : invitation.status === "EXPIRED"
                    ? "It has expired."
                    : "It was withdrawn."}{" "}
                Ask an administrator of {invitation.organizationName} for a new one.
              </Notice>
            ) : wrongUser ? (
              <div className={styles.form}>
                <Notice tone="warning" title={`You are signed in as ${loaded.user!.email}`}>
                  This invitation is for {invitation.email}. Sign out, then open the link again and
                  sign in with that address.
                </Notice>
                <Button onClick={signOut}>Sign out</Button>
              </div>
            ) : loaded.user ? (
              <div className={styles.form}>
                {error ? <Notice tone="danger">{error}</Notice> : null}
                <Button variant="primary" busy={busy} onClick={() => void accept()}>
                  {busy ? "Joining…" : `Join ${invitation.organizationName}`}
                </Button>
              </div>
            ) : invitation.accountExists ? (
              <Notice tone="info" title="You already have an account">
                <a href={`/?next=${encodeURIComponent("/invite")}`}>
                  Sign in as {invitation.email}
                </a>
                , then open the invitation link again.
              </Notice>
            ) : (
              <form className={styles.form} onSubmit={accept} aria-label="Create your account">
                <TextField
                  label="Your name"
                  name="name"
                  autoComplete="name"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
                <TextField
                  label="Choose a password"
                  hint={`At least ${MIN_PASSWORD} characters`}
                  type="password"
                  name="password"
                  autoComplete="new-password"
                  required
                  minLength={MIN_PASSWORD}
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
                <TextField
                  label="Repeat the password"
                  type="password"
                  name="repeat"
                  autoComplete="new-password"
                  required
                  value={repeat}
                  onChange={(e) => setRepeat(e.target.value)}
                />
                {error ? <Notice tone="danger">{error}</Notice> : null}
                <Button type="submit" variant="primary" busy={busy}>
                  {busy ? "Joining…" : "Create account and join"}
                </Button>
              </form>
            )}
          </>
        ) : null}
      </section>
    </main>
  );
}
