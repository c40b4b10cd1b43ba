"use client";

import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { Button } from "./Button.tsx";
import { TextField } from "./Field.tsx";
import styles from "./ui.module.css";

/**
 * A modal confirmation on the native `<dialog>`: focus moves into it, Escape cancels, and
 * the page behind is inert. With `confirmText`, the person types it (e.g. a name) first.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  tone = "primary",
  confirmText,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  tone?: "primary" | "danger";
  confirmText?: string;
  busy?: boolean;
  error?: string | undefined;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [typed, setTyped] = useState("");

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setTyped("");
      dialog.showModal();
    } else if (!open && dialog.open) dialog.close();
  }, [open]);

  const blocked = confirmText !== undefined && typed !== confirmText;
  return (
    <dialog
      ref={ref}
      className={styles.dialog}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (!blocked && !busy) onConfirm();
        }}
      >
        <div className={styles.dialogBody}>
          <h2 className={styles.dialogTitle} id={titleId}>
            {title}
          </h2>
          <div>{children}</div>
          {confirmText !== undefined ? (
            <TextField
              label={
                <>
                  Type <code>{confirmText}</code> to confirm
                </>
              }
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
            />
          ) : null}
          {error ? (
            <p className={styles.error} role="alert">
              {error}
            </p>
          ) : null}
        </div>
        <div className={styles.dialogActions}>
          <Button onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant={tone} busy={busy} disabled={blocked}>
            {confirmLabel}
          </Button>
        </div>
      </form>
    </dialog>
  );
}
