import type { Metadata } from "next";
import Link from "next/link";
import styles from "./page.module.css";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className={styles.main}>
      <section className={styles.card} aria-labelledby="not-found-title">
        <p className={styles.brand}>Coffer</p>
        <h1 id="not-found-title" className={styles.title}>
          Page not found
        </h1>
        <p>There is nothing at this address in the console.</p>
        <p>
          <Link href="/">Back to the console</Link>
        </p>
      </section>
    </main>
  );
}
