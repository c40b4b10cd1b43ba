"use client";

import { useState, type FormEvent, type KeyboardEvent } from "react";
import type { ApiError } from "../../lib/document.ts";
import { request, unwrap } from "../../lib/graphql.ts";
import {
  ROTATE_SECRET,
  UPDATE_SECRET,
  type SecretDetail,
  type SecretPayload,
  type SecretValueInput,
} from "../../lib/operations.ts";
import { toRequestError } from "../../lib/useQuery.ts";
import { Button } from "../ui/Button.tsx";
import { SecretField, TextAreaField, TextField } from "../ui/Field.tsx";
import { Notice } from "../ui/Notice.tsx";
import { Panel } from "../ui/Panel.tsx";
import ui from "../ui/ui.module.css";
import styles from "./credentials.module.css";
import { sentence, splitIssues } from "./issues.ts";
import { isStructured, STRUCTURED_TYPES } from "./structuredTypes.ts";

type Message = { tone: "success" | "warning"; title: string; details?: string[] };
type Mode = "edit" | "rotate";

/**
 * Changing values without ever showing them: "Edit keys" is a merge (only the keys you
 * type into change, removals are explicit); "Rotate" replaces every value at once. Both
 * keep the name, so expressions keep working, and both write a new version.
 */
export function EditValues({
  secret,
  onChanged,
}: {
  secret: SecretDetail;
  onChanged: (message: Message) => void;
}) {
  const [mode, setMode] = useState<Mode>("edit");
  // Remount the forms on every new version so no typed value outlives its save.
  const key = `${mode}-${secret.currentVersion}`;
  const modes = ["edit", "rotate"] as const;
  // The ARIA tabs pattern: one tab stop, arrow keys move between the tabs.
  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    const next =
      event.key === "Home"
        ? modes[0]
        : event.key === "End"
          ? modes[modes.length - 1]!
          : modes[
              (modes.indexOf(mode) + (event.key === "ArrowRight" ? 1 : modes.length - 1)) %
                modes.length
            ]!;
    setMode(next);
    document.getElementById(`values-tab-${next}`)?.focus();
  }
  return (
    <Panel
      id="values"
      title="Values"
      description="Values are write-only. Fields start empty: leave one empty to keep its value unchanged."
      actions={
        <div
          role="tablist"
          aria-label="How to change values"
          className={ui.pageActions}
          onKeyDown={onKeyDown}
        >
          {modes.map((m) => (
            <Button
              key={m}
              id={`values-tab-${m}`}
              small
              role="tab"
              aria-selected={mode === m}
              aria-controls="values-tabpanel"
              tabIndex={mode === m ? 0 : -1}
              variant={mode === m ? "primary" : "secondary"}
              onClick={() => setMode(m)}
            >
              {m === "edit" ? "Edit keys" : "Rotate"}
            </Button>
          ))}
        </div>
      }
    >
      <div id="values-tabpanel" role="tabpanel" aria-labelledby={`values-tab-${mode}`}>
        {mode === "edit" ? (
          <MergeForm key={key} secret={secret} onChanged={onChanged} />
        ) : (
          <RotateForm key={key} secret={secret} onChanged={onChanged} />
        )}
      </div>
    </Panel>
  );
}

function savedMessage(verb: string, payload: SecretPayload): Message {
  const title = `${verb}: now at version ${payload.secret.currentVersion}. The name is unchanged, so expressions keep working.`;
  return payload.warnings.length
    ? { tone: "warning", title, details: payload.warnings }
    : { tone: "success", title };
}

function conflictText(error: ApiError): string {
  return error.__typename === "ConflictError"
    ? `${error.message}. Someone changed this credential meanwhile: reload the page to see the new version, then try again.`
    : error.message;
}

function MergeForm({
  secret,
  onChanged,
}: {
  secret: SecretDetail;
  onChanged: (m: Message) => void;
}) {
  const structured = isStructured(secret.type) ? STRUCTURED_TYPES[secret.type] : undefined;
  const template = secret.template;
  const fixedKeys = Boolean(structured);
  const [values, setValues] = useState<Record<string, string>>({});
  const [removed, setRemoved] = useState<Set<string>>(new Set());
  const [added, setAdded] = useState<{ id: number; key: string; value: string }[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [nothing, setNothing] = useState(false);
  const { fields, general } = splitIssues(error);

  const required = new Set(template?.requiredKeys.map((k) => k.name) ?? []);
  const addable = template
    ? template.optionalKeys.map((k) => k.name).filter((k) => !secret.keyNames.includes(k))
    : [];

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const set: SecretValueInput[] = [
      ...Object.entries(values)
        .filter(([key, value]) => value !== "" && !removed.has(key))
        .map(([key, value]) => ({ key, value })),
      ...added
        .filter((a) => a.key.trim() && a.value !== "")
        .map((a) => ({ key: a.key.trim(), value: a.value })),
    ];
    const remove = [...removed];
    if (!set.length && !remove.length) {
      setNothing(true);
      return;
    }
    setNothing(false);
    setBusy(true);
    setError(undefined);
    try {
      const { updateSecret } = await request(UPDATE_SECRET, {
        input: { id: secret.id, expectedVersion: secret.currentVersion, set, remove },
      });
      const result = unwrap(updateSecret);
      if (!result.ok) {
        setError(result.error);
        setBusy(false);
        return;
      }
      onChanged(savedMessage(`Saved ${set.length + remove.length} change(s)`, result.data));
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} aria-label="Edit keys" noValidate>
      <div className={ui.stack}>
        {error ? (
          <Notice
            tone="danger"
            title="Nothing was saved"
            details={(general.length
              ? general
              : error.issues?.length
                ? []
                : [conflictText(error)]
            ).map(sentence)}
          />
        ) : null}
        {nothing ? (
          <Notice tone="info">Type a new value or mark a key for removal first.</Notice>
        ) : null}
        <div>
          {secret.keyNames.map((key) => {
            const isRemoved = removed.has(key);
            const canRemove = !fixedKeys && !required.has(key) && secret.keyNames.length > 1;
            const common = {
              label: <code>{key}</code>,
              value: values[key] ?? "",
              disabled: isRemoved || busy,
              placeholder: isRemoved ? "Will be removed" : "Unchanged",
              error: fields[key],
              onChange: (e: { target: { value: string } }) =>
                setValues((v) => ({ ...v, [key]: e.target.value })),
            };
            return (
              <div key={key} className={`${styles.editRow} ${isRemoved ? styles.removed : ""}`}>
                {structured ? (
                  <TextAreaField
                    {...common}
                    rows={5}
                    placeholder={
                      isRemoved ? "Will be removed" : "Unchanged: paste a new PEM to replace it"
                    }
                  />
                ) : (
                  <SecretField {...common} />
                )}
                {canRemove ? (
                  <label className={styles.removeToggle}>
                    <input
                      type="checkbox"
                      checked={isRemoved}
                      onChange={(e) =>
                        setRemoved((r) => {
                          const next = new Set(r);
                          if (e.target.checked) next.add(key);
                          else next.delete(key);
                          return next;
                        })
                      }
                    />
                    Remove <span className="visually-hidden">{key}</span>
                  </label>
                ) : (
                  <span />
                )}
              </div>
            );
          })}
        </div>
        {!fixedKeys ? (
          <>
            {added.map((a, index) => (
              <div key={a.id} className={styles.keyRow}>
                {template ? (
                  <TextField
                    label={`New key ${index + 1}`}
                    value={a.key}
                    list="addable-keys"
                    className={ui.mono}
                    onChange={(e) =>
                      setAdded((rows) =>
                        rows.map((r) => (r.id === a.id ? { ...r, key: e.target.value } : r)),
                      )
                    }
                    error={fields[a.key.trim()]}
                  />
                ) : (
                  <TextField
                    label={`New key ${index + 1}`}
                    value={a.key}
                    className={ui.mono}
                    placeholder="e.g. API_KEY"
                    autoComplete="off"
                    spellCheck={false}
                    onChange={(e) =>
                      setAdded((rows) =>
                        rows.map((r) => (r.id === a.id ? { ...r, key: e.target.value } : r)),
                      )
                    }
                    error={fields[a.key.trim() || "(empty)"]}
                  />
                )}
                <SecretField
                  label={`New value ${index + 1}`}
                  value={a.value}
                  onChange={(e) =>
                    setAdded((rows) =>
                      rows.map((r) => (r.id === a.id ? { ...r, value: e.target.value } : r)),
                    )
                  }
                />
                <Button
                  small
                  variant="ghost"
                  onClick={() => setAdded((rows) => rows.filter((r) => r.id !== a.id))}
                >
                  Remove
                </Button>
              </div>
            ))}
            {template && addable.length === 0 ? null : (
              <div>
                <Button
                  small
                  onClick={() =>
                    setAdded((rows) => [
                      ...rows,
                      { id: Math.max(0, ...rows.map((r) => r.id)) + 1, key: "", value: "" },
                    ])
                  }
                >
                  Add a key
                </Button>
              </div>
            )}
            <datalist id="addable-keys">
              {addable.map((k) => (
                <option key={k} value={k} />
              ))}
            </datalist>
          </>
        ) : null}
        <div className={ui.pageActions}>
          <Button type="submit" variant="primary" busy={busy}>
            {busy ? "Saving…" : "Save changes"}
          </Button>
        </div>
      </div>
    </form>
  );
}

function RotateForm({
  secret,
  onChanged,
}: {
  secret: SecretDetail;
  onChanged: (m: Message) => void;
}) {
  const structured = isStructured(secret.type) ? STRUCTURED_TYPES[secret.type] : undefined;
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const { fields, general } = splitIssues(error);
  const missing = secret.keyNames.filter((k) => !values[k]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (missing.length) {
      setError({
        __typename: "ValidationError",
        code: "VALIDATION_FAILED",
        message: "Every key needs a new value",
        issues: missing.map((k) => ({ path: k, message: "needs a new value to rotate" })),
      });
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const { rotateSecret } = await request(ROTATE_SECRET, {
        input: {
          id: secret.id,
          expectedVersion: secret.currentVersion,
          values: secret.keyNames.map((key) => ({ key, value: values[key]! })),
        },
      });
      const result = unwrap(rotateSecret);
      if (!result.ok) {
        setError(result.error);
        setBusy(false);
        return;
      }
      onChanged(savedMessage("Rotated", result.data));
    } catch (caught) {
      const failure = toRequestError(caught);
      setError({ __typename: "RequestError", code: failure.code, message: failure.message });
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} aria-label="Rotate" noValidate>
      <div className={ui.stack}>
        <Notice tone="info">
          Rotation replaces <strong>every</strong> value at once under the same name. Issue the new
          credential at the provider first, paste it here, then revoke the old one there.
        </Notice>
        {error ? (
          <Notice
            tone="danger"
            title="Nothing was rotated"
            details={(general.length
              ? general
              : error.issues?.length
                ? []
                : [conflictText(error)]
            ).map(sentence)}
          />
        ) : null}
        {secret.keyNames.map((key) =>
          structured ? (
            <TextAreaField
              key={key}
              label={
                <>
                  New <code>{key}</code>
                </>
              }
              requiredMark
              rows={6}
              value={values[key] ?? ""}
              onChange={(e) => setValues((v) => ({ ...v, [key]: e.target.value }))}
              error={fields[key]}
            />
          ) : (
            <SecretField
              key={key}
              label={
                <>
                  New <code>{key}</code>
                </>
              }
              requiredMark
              value={values[key] ?? ""}
              onChange={(e) => setValues((v) => ({ ...v, [key]: e.target.value }))}
              error={fields[key]}
            />
          ),
        )}
        <div className={ui.pageActions}>
          <Button type="submit" variant="primary" busy={busy}>
            {busy ? "Rotating…" : `Rotate to version ${secret.currentVersion + 1}`}
          </Button>
        </div>
      </div>
    </form>
  );
}
