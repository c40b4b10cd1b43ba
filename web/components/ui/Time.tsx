import { formatDateTime, formatRelative } from "../../lib/format.ts";

/** A relative time ("5 minutes ago") with the exact time in its tooltip and markup. */
export function Time({
  iso,
  fallback = "—",
}: {
  iso: string | null | undefined;
  fallback?: string;
}) {
  if (!iso) return <span className="muted">{fallback}</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso)}
    </time>
  );
}
