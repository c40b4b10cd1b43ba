import type { ReactNode } from "react";
import styles from "./ui.module.css";

const TONES = {
  neutral: styles.badgeNeutral,
  accent: styles.badgeAccent,
  success: styles.badgeSuccess,
  warning: styles.badgeWarning,
  danger: styles.badgeDanger,
} as const;

export function Badge({
  tone = "neutral",
  children,
  title,
}: {
  tone?: keyof typeof TONES;
  children: ReactNode;
  title?: string;
}) {
  return (
    <span className={`${styles.badge} ${TONES[tone]}`} title={title}>
      {children}
    </span>
  );
}

export function KeyChips({ keys }: { keys: string[] }) {
  return (
    <span className={styles.chips}>
      {keys.map((k) => (
        <code key={k} className={styles.chip}>
          {k}
        </code>
      ))}
    </span>
  );
}
