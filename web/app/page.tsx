import SignInForm from "./SignInForm";
import styles from "./page.module.css";

export default function HomePage() {
  return (
    <main className={styles.main}>
      <section className={styles.card} aria-labelledby="console-title">
        <p className={styles.brand}>Coffer</p>
        <h1 id="console-title" className={styles.title}>
          Coffer admin console
        </h1>
        <SignInForm noteId="console-note" />
        <p id="console-note" className={styles.note}>
          This is a placeholder. Signing in is not wired up yet: the full console (organizations,
          credentials, OAuth connections, API tokens and the audit log) arrives in a later issue.
        </p>
      </section>
    </main>
  );
}
