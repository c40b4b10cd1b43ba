import Link from "next/link";
import type { ButtonHTMLAttributes, ReactNode } from "react";
import styles from "./ui.module.css";

type Variant = "primary" | "secondary" | "danger" | "dangerOutline" | "ghost";

function classes(variant: Variant, small: boolean | undefined, extra?: string): string {
  return [styles.button, styles[variant], small ? styles.small : "", extra ?? ""].join(" ");
}

export function Button({
  variant = "secondary",
  small,
  busy,
  children,
  className,
  disabled,
  type = "button",
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: Variant;
  small?: boolean;
  /** Shows a spinner and disables the button while an action runs. */
  busy?: boolean;
}) {
  return (
    <button
      type={type}
      className={classes(variant, small, className)}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy ? <span className={styles.spinner} aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

export function ButtonLink({
  href,
  variant = "secondary",
  small,
  children,
}: {
  href: string;
  variant?: Variant;
  small?: boolean;
  children: ReactNode;
}) {
  return (
    <Link href={href} className={classes(variant, small)}>
      {children}
    </Link>
  );
}
