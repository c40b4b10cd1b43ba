import type { ReactNode } from "react";
import styles from "./ui.module.css";

export function EmptyState({
  title,
  children,
  action,
}: {
  title: ReactNode;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className={styles.empty}>
      <h3 className={styles.emptyTitle}>{title}</h3>
      {children ? <p className={styles.emptyText}>{children}</p> : null}
      {action}
    </div>
  );
}
