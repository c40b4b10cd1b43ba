"use client";

import { useState, type FormEvent } from "react";
import styles from "./page.module.css";

/**
 * Placeholder sign-in form. It never sends anything: submission is cancelled, and the inputs
 * deliberately have no `name`, so even a submission before hydration carries no credentials.
 */
export default function SignInForm({ noteId }: { noteId: string }) {
  const [status, setStatus] = useState("");

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setStatus("Sign-in is not available yet in this preview.");
  }

  return (
    <form className={styles.form} method="post" onSubmit={onSubmit} aria-describedby={noteId}>
      <fieldset className={styles.form}>
        <legend className={styles.legend}>Sign in</legend>
        <div className={styles.field}>
          <label className={styles.label} htmlFor="email">
            Email
          </label>
          <input
            className={styles.input}
            id="email"
            type="email"
            autoComplete="username"
            inputMode="email"
            required
          />
        </div>
        <div className={styles.field}>
          <label className={styles.label} htmlFor="password">
            Password
          </label>
          <input
            className={styles.input}
            id="password"
            type="password"
            autoComplete="current-password"
            required
          />
        </div>
        <button className={styles.button} type="submit">
          Sign in
        </button>
        <p className={styles.status} role="status" aria-live="polite">
          {status}
        </p>
      </fieldset>
    </form>
  );
}
