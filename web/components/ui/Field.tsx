"use client";

import {
  useId,
  useState,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";
import styles from "./ui.module.css";

type FieldChrome = {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  /** Shows a red asterisk; the input itself carries `required` / `aria-required`. */
  requiredMark?: boolean;
  optionalMark?: boolean;
};

/** Label, hint and error wired to the control with `aria-describedby` / `aria-invalid`. */
function FieldFrame({
  id,
  label,
  hint,
  error,
  requiredMark,
  optionalMark,
  children,
}: FieldChrome & { id: string; children: ReactNode }) {
  return (
    <div className={styles.field}>
      <label className={styles.label} htmlFor={id}>
        {label}
        {requiredMark ? (
          <span className={styles.required} aria-hidden="true">
            *
          </span>
        ) : null}
        {optionalMark ? <span className={styles.optionalTag}>optional</span> : null}
      </label>
      {children}
      {hint ? (
        <p className={styles.hint} id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className={styles.error} id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function TextField({
  label,
  hint,
  error,
  requiredMark,
  optionalMark,
  className,
  ...input
}: FieldChrome & InputHTMLAttributes<HTMLInputElement>) {
  const generated = useId();
  const id = input.id ?? generated;
  return (
    <FieldFrame {...{ id, label, hint, error, requiredMark, optionalMark }}>
      <input
        className={`${styles.input} ${className ?? ""}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...input}
        id={id}
      />
    </FieldFrame>
  );
}

/**
 * A write-only value: masked by default with a Show toggle, never autofilled or saved by the
 * browser. Its content lives only in this form's state until it is sent.
 */
export function SecretField({
  label,
  hint,
  error,
  requiredMark,
  optionalMark,
  ...input
}: FieldChrome & Omit<InputHTMLAttributes<HTMLInputElement>, "type">) {
  const generated = useId();
  const id = input.id ?? generated;
  const [visible, setVisible] = useState(false);
  return (
    <FieldFrame {...{ id, label, hint, error, requiredMark, optionalMark }}>
      <div style={{ display: "flex", gap: "0.4rem" }}>
        <input
          className={`${styles.input} ${styles.mono}`}
          type={visible ? "text" : "password"}
          autoComplete="off"
          spellCheck={false}
          data-lpignore="true"
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, hint, error)}
          {...input}
          id={id}
        />
        <button
          type="button"
          className={`${styles.button} ${styles.secondary} ${styles.small}`}
          onClick={() => setVisible((v) => !v)}
          aria-pressed={visible}
          aria-controls={id}
        >
          {visible ? "Hide" : "Show"}
          <span className="visually-hidden"> value</span>
        </button>
      </div>
    </FieldFrame>
  );
}

export function TextAreaField({
  label,
  hint,
  error,
  requiredMark,
  optionalMark,
  ...textarea
}: FieldChrome & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const generated = useId();
  const id = textarea.id ?? generated;
  return (
    <FieldFrame {...{ id, label, hint, error, requiredMark, optionalMark }}>
      <textarea
        className={styles.textarea}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...textarea}
        id={id}
      />
    </FieldFrame>
  );
}

export function SelectField({
  label,
  hint,
  error,
  requiredMark,
  optionalMark,
  children,
  ...select
}: FieldChrome & SelectHTMLAttributes<HTMLSelectElement>) {
  const generated = useId();
  const id = select.id ?? generated;
  return (
    <FieldFrame {...{ id, label, hint, error, requiredMark, optionalMark }}>
      <select
        className={styles.select}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...select}
        id={id}
      >
        {children}
      </select>
    </FieldFrame>
  );
}

export function Checkbox({
  label,
  hint,
  ...input
}: { label: ReactNode; hint?: ReactNode } & Omit<InputHTMLAttributes<HTMLInputElement>, "type">) {
  const generated = useId();
  const id = input.id ?? generated;
  return (
    <div className={styles.checkbox}>
      <input
        type="checkbox"
        {...input}
        id={id}
        aria-describedby={hint ? `${id}-hint` : undefined}
      />
      <div>
        <label htmlFor={id}>{label}</label>
        {hint ? (
          <p className={styles.hint} id={`${id}-hint`}>
            {hint}
          </p>
        ) : null}
      </div>
    </div>
  );
}
