"use client";

import { useEffect, useState } from "react";
import { request, unwrap } from "../../lib/graphql.ts";
import { REWRAP_SECRETS, ROTATE_TRANSIT_KEY, TRANSIT_KEY } from "../../lib/operations.ts";
import { toRequestError, useQuery } from "../../lib/useQuery.ts";
import { Badge } from "../ui/Badge.tsx";
import { Button } from "../ui/Button.tsx";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { Loading } from "../ui/Loading.tsx";
import { Notice } from "../ui/Notice.tsx";
import { Panel } from "../ui/Panel.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import { Time } from "../ui/Time.tsx";
import ui from "../ui/ui.module.css";

/**
 * The organization's transit key: its versions, how many stored ciphertexts each protects,
 * and the re-wrap job that moves them all to the newest version (without decrypting).
 */
export function TransitKeyPanel({ organizationId }: { organizationId: string }) {
  const status = useQuery(TRANSIT_KEY, { id: organizationId });
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [busy, setBusy] = useState<"rotate" | "rewrap" | null>(null);
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const key = status.data?.organization?.transitKey;
  const job = key?.latestRewrapJob;
  const running = job?.status === "RUNNING";

  // Follow a running re-wrap until it finishes.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(status.reload, 1500);
    return () => clearInterval(timer);
  }, [running, status.reload]);

  async function rotate() {
    setBusy("rotate");
    setError(undefined);
    try {
      const result = unwrap(
        (await request(ROTATE_TRANSIT_KEY, { organizationId })).rotateTransitKey,
      );
      if (!result.ok) setError(result.error.message);
      else {
        setConfirmRotate(false);
        setMessage(
          `The key is now at version ${result.data.latestVersion}. New values use it at once; re-wrap to move the existing ones.`,
        );
        status.reload();
      }
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(null);
  }

  async function rewrap() {
    setBusy("rewrap");
    setError(undefined);
    try {
      const result = unwrap((await request(REWRAP_SECRETS, { organizationId })).rewrapSecrets);
      if (!result.ok) setError(result.error.message);
      else
        setMessage(
          `Re-wrap ${result.data.status.toLowerCase()}: ${result.data.rewrapped} of ${result.data.total}.`,
        );
      status.reload();
    } catch (caught) {
      setError(toRequestError(caught).message);
    }
    setBusy(null);
  }

  const outdated = key?.ciphertextsByVersion
    .filter((c) => key.latestVersion !== null && c.keyVersion < key.latestVersion)
    .reduce((sum, c) => sum + c.count, 0);

  return (
    <Panel
      title="Transit key"
      description="Values are encrypted by the organization's own transit key; rotating it and re-wrapping never exposes plaintext."
      actions={
        key && key.latestVersion !== null ? (
          <>
            <Button small onClick={() => setConfirmRotate(true)}>
              Rotate key
            </Button>
            <Button small onClick={rewrap} busy={busy === "rewrap" || running} disabled={!outdated}>
              Re-wrap secrets
            </Button>
          </>
        ) : null
      }
    >
      {status.error ? <QueryError error={status.error} retry={status.reload} /> : null}
      {!key && !status.error ? <Loading label="Loading the key status…" /> : null}
      {key ? (
        <div className={ui.stack}>
          {message ? <Notice tone="success">{message}</Notice> : null}
          {error && !confirmRotate ? <Notice tone="danger">{error}</Notice> : null}
          <dl className={ui.dl}>
            <dt>Key</dt>
            <dd>
              <code className={ui.code}>{key.keyName}</code>
            </dd>
            <dt>Latest version</dt>
            <dd>
              {key.latestVersion === null ? (
                <Badge tone="danger">destroyed</Badge>
              ) : (
                `v${key.latestVersion}`
              )}
            </dd>
            <dt>Minimum decryption version</dt>
            <dd>{key.minDecryptionVersion ? `v${key.minDecryptionVersion}` : "—"}</dd>
            <dt>Ciphertexts</dt>
            <dd>
              {key.ciphertextsByVersion.length === 0
                ? "None stored yet"
                : key.ciphertextsByVersion.map((c) => (
                    <span key={c.keyVersion} style={{ marginRight: "0.75rem" }}>
                      <Badge tone={c.keyVersion === key.latestVersion ? "success" : "warning"}>
                        v{c.keyVersion}: {c.count}
                      </Badge>
                    </span>
                  ))}
              {outdated ? (
                <div className="muted" style={{ fontSize: "0.85rem", marginTop: "0.3rem" }}>
                  {outdated} ciphertext{outdated === 1 ? "" : "s"} on older key versions: re-wrap to
                  move them to v{key.latestVersion}.
                </div>
              ) : null}
            </dd>
            <dt>Latest re-wrap</dt>
            <dd>
              {job ? (
                <>
                  <Badge
                    tone={
                      job.status === "COMPLETED"
                        ? "success"
                        : job.status === "FAILED"
                          ? "danger"
                          : "accent"
                    }
                  >
                    {job.status.toLowerCase()}
                  </Badge>{" "}
                  to v{job.targetKeyVersion}: {job.rewrapped} of {job.total}, started{" "}
                  <Time iso={job.startedAt} />
                  <progress
                    className={ui.progress}
                    max={Math.max(job.total, 1)}
                    value={job.total ? job.rewrapped : 1}
                    aria-label="Re-wrap progress"
                  />
                  {job.lastError ? <p className={ui.error}>{job.lastError}</p> : null}
                </>
              ) : (
                "Never run"
              )}
            </dd>
          </dl>
        </div>
      ) : null}
      <ConfirmDialog
        open={confirmRotate}
        title="Rotate the transit key?"
        confirmLabel="Rotate key"
        busy={busy === "rotate"}
        error={error}
        onCancel={() => {
          setConfirmRotate(false);
          setError(undefined);
        }}
        onConfirm={rotate}
      >
        <p style={{ margin: 0 }}>
          A new key version is added and used for new values at once. Existing values stay readable;
          run a re-wrap afterwards to move them to the new version.
        </p>
      </ConfirmDialog>
    </Panel>
  );
}
