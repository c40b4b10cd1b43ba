import type { ReactNode } from "react";
import styles from "./ui.module.css";

export function Panel({
  title,
  description,
  actions,
  children,
  flush,
  id,
}: {
  title?: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  /** No inner padding: for tables that run edge to edge. */
  flush?: boolean;
  id?: string;
}) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section className={styles.panel} aria-labelledby={title ? headingId : undefined} id={id}>
      {title ? (
        <header className={styles.panelHeader}>
          <div>
            <h2 className={styles.panelTitle} id={headingId}>
              {title}
            </h2>
            {description ? <p className={styles.panelDescription}>{description}</p> : null}
          </div>
          {actions ? <div className={styles.pageActions}>{actions}</div> : null}
        </header>
      ) : null}
      {flush ? children : <div className={styles.panelBody}>{children}</div>}
    </section>
  );
}

export function PageHeader({
  title,
  description,
  actions,
  breadcrumb,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  breadcrumb?: ReactNode;
}) {
  return (
    <header className={styles.pageHeader}>
      <div>
        {breadcrumb ? <p className={styles.breadcrumb}>{breadcrumb}</p> : null}
        <h1 className={styles.pageTitle}>{title}</h1>
        {description ? <p className={styles.pageDescription}>{description}</p> : null}
      </div>
      {actions ? <div className={styles.pageActions}>{actions}</div> : null}
    </header>
  );
}
