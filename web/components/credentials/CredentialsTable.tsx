import Link from "next/link";
import { SCOPE_LABELS, SECRET_TYPE_LABELS } from "../../lib/format.ts";
import type { SecretSummary } from "../../lib/operations.ts";
import { Badge, KeyChips } from "../ui/Badge.tsx";
import { Time } from "../ui/Time.tsx";
import styles from "../ui/ui.module.css";

export function ScopeBadge({ scope }: { scope: SecretSummary["scope"] }) {
  const tone = scope === "PERSONAL" ? "warning" : scope === "ORGANIZATION" ? "accent" : "neutral";
  return <Badge tone={tone}>{SCOPE_LABELS[scope]}</Badge>;
}

/** One environment's credentials: name, type, scope, keys, version, last use. */
export function CredentialsTable({
  caption,
  secrets,
  hrefOf,
  showEnvironment = false,
}: {
  caption: string;
  secrets: SecretSummary[];
  hrefOf: (secret: SecretSummary) => string;
  showEnvironment?: boolean;
}) {
  return (
    <div className={styles.tableWrap}>
      {/* Fixed columns, so the tables of successive environments line up. */}
      <table className={`${styles.table} ${styles.fixed}`}>
        <caption className="visually-hidden">{caption}</caption>
        <colgroup>
          <col style={{ width: "20%" }} />
          {showEnvironment ? <col style={{ width: "12%" }} /> : null}
          <col style={{ width: "11%" }} />
          <col style={{ width: "13%" }} />
          <col />
          <col style={{ width: "8%" }} />
          <col style={{ width: "11%" }} />
          <col style={{ width: "11%" }} />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Name</th>
            {showEnvironment ? <th scope="col">Environment</th> : null}
            <th scope="col">Type</th>
            <th scope="col">Scope</th>
            <th scope="col">Keys</th>
            <th scope="col">Version</th>
            <th scope="col">Last used</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {secrets.map((secret) => (
            <tr key={secret.id} data-credential={`${secret.name}@${secret.environment}`}>
              <td>
                <Link href={hrefOf(secret)} style={{ fontWeight: 600 }}>
                  {secret.name}
                </Link>
                {secret.template ? (
                  <div className="muted" style={{ fontSize: "0.8rem" }}>
                    {secret.template.title} template
                  </div>
                ) : null}
              </td>
              {showEnvironment ? (
                <td>
                  <code className={styles.code}>{secret.environment}</code>
                </td>
              ) : null}
              <td>{SECRET_TYPE_LABELS[secret.type]}</td>
              <td>
                <ScopeBadge scope={secret.scope} />
                {secret.scope === "PERSONAL" && secret.owner ? (
                  <div className="muted" style={{ fontSize: "0.8rem" }}>
                    {secret.owner.email}
                  </div>
                ) : null}
              </td>
              <td>
                <KeyChips keys={secret.keyNames} />
              </td>
              <td>v{secret.currentVersion}</td>
              <td>
                <Time iso={secret.lastUsedAt} fallback="Never" />
              </td>
              <td>
                <Time iso={secret.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Groups by environment, `default` first, then alphabetically. */
export function byEnvironment(secrets: SecretSummary[]): [string, SecretSummary[]][] {
  const groups = new Map<string, SecretSummary[]>();
  for (const s of secrets) groups.set(s.environment, [...(groups.get(s.environment) ?? []), s]);
  return [...groups.entries()].sort(([a], [b]) =>
    a === "default" ? -1 : b === "default" ? 1 : a.localeCompare(b),
  );
}
