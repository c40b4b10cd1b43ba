import type { ReactNode } from "react";
import { Button } from "./Button.tsx";
import { CopyButton } from "./CopyButton.tsx";
import { TextField } from "./Field.tsx";
import { Notice } from "./Notice.tsx";
import { Panel } from "./Panel.tsx";
import ui from "./ui.module.css";

/**
 * The one and only time a credential Coffer made is visible (an API token, an invitation
 * link, a webhook signing key): read-only, with a copy button. Dismissing it drops it from
 * memory.
 */
export function ShownOnce({
  title,
  warning,
  children,
  id,
  label,
  value,
  copyLabel,
  doneLabel = "I have stored it",
  onDone,
}: {
  title: string;
  warning: string;
  /** Why it matters and what to do if it is lost. */
  children: ReactNode;
  id: string;
  label: string;
  value: string;
  copyLabel: string;
  doneLabel?: string;
  onDone: () => void;
}) {
  return (
    <Panel title={title}>
      <div className={ui.stack}>
        <Notice tone="warning" title={warning}>
          {children}
        </Notice>
        <div className={ui.row}>
          <div style={{ flex: "1 1 30rem" }}>
            <TextField
              id={id}
              label={label}
              value={value}
              readOnly
              className={ui.mono}
              onFocus={(e) => e.target.select()}
            />
          </div>
          <div style={{ alignSelf: "flex-start", marginTop: "1.6rem" }}>
            <CopyButton text={value} label={copyLabel} selectId={id} small={false} />
          </div>
        </div>
        <div>
          <Button variant="primary" onClick={onDone}>
            {doneLabel}
          </Button>
        </div>
      </div>
    </Panel>
  );
}
