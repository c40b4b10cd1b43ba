"use client";

import { useState } from "react";
import { Button } from "./Button.tsx";

/** Copies text to the clipboard and says so; falls back to selecting `selectId`'s text. */
export function CopyButton({
  text,
  label = "Copy",
  selectId,
  small = true,
}: {
  text: string;
  label?: string;
  selectId?: string;
  small?: boolean;
}) {
  const [status, setStatus] = useState<"idle" | "copied" | "manual">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setStatus("copied");
    } catch {
      // Clipboard access can be refused (permissions, insecure origin): select it instead.
      const element = selectId ? document.getElementById(selectId) : null;
      if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement)
        element.select();
      setStatus("manual");
    }
    setTimeout(() => setStatus("idle"), 2500);
  }
  return (
    <>
      <Button small={small} onClick={copy}>
        {status === "copied" ? "Copied" : label}
      </Button>
      <span className="visually-hidden" role="status" aria-live="polite">
        {status === "copied"
          ? "Copied to the clipboard"
          : status === "manual"
            ? "Copying is not allowed here: the text is selected, press Ctrl+C"
            : ""}
      </span>
    </>
  );
}
