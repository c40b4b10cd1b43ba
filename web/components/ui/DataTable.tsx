import type { ReactNode } from "react";
import styles from "./ui.module.css";

/**
 * A table of records: a caption read out to screen readers, column headers, and optionally
 * a last column (buttons, toggles) whose header is only read out. `children` are the rows.
 */
export function DataTable({
  caption,
  columns,
  unlabelledColumn,
  children,
}: {
  caption: ReactNode;
  columns: readonly string[];
  /** What the last, unlabelled column holds, e.g. "Actions". */
  unlabelledColumn?: string;
  children: ReactNode;
}) {
  return (
    <div className={styles.tableWrap}>
      <table className={styles.table}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
            {unlabelledColumn ? (
              <th scope="col">
                <span className="visually-hidden">{unlabelledColumn}</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
