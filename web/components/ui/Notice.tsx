import type { ReactNode } from "react";
import styles from "./ui.module.css";

const TONES = {
  info: styles.info,
  success: styles.success,
  warning: styles.warning,
  danger: styles.dangerNotice,
} as const;

/**
 * A message in the page. Errors are announced at once (`role="alert"`); the other tones
 * politely (`role="status"`).
 */
export function Notice({
  tone = "info",
  title,
  children,
  details,
}: {
  tone?: keyof typeof TONES;
  title?: ReactNode;
  children?: ReactNode;
  details?: string[] | undefined;
}) {
  return (
    <div
      className={`${styles.notice} ${TONES[tone]}`}
      role={tone === "danger" ? "alert" : "status"}
    >
      {title ? <p className={styles.noticeTitle}>{title}</p> : null}
      {children ? <div>{children}</div> : null}
      {details && details.length ? (
        <ul>
          {details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
