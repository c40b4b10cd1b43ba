const absolute = new Intl.DateTimeFormat("en", {
  dateStyle: "medium",
  timeStyle: "medium",
});
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

export function formatDateTime(iso: string): string {
  return absolute.format(new Date(iso));
}

/** "3 minutes ago", "in 2 days"; exact time goes in a tooltip next to it. */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? "just now" : "in a few seconds";
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["minute", 60],
    ["hour", 3600],
    ["day", 86400],
    ["month", 2592000],
    ["year", 31536000],
  ];
  let unit: [Intl.RelativeTimeFormatUnit, number] = steps[0]!;
  for (const step of steps) if (abs >= step[1] * 0.9) unit = step;
  return relative.format(Math.round(seconds / unit[1]), unit[0]);
}

export const SECRET_TYPE_LABELS = {
  CUSTOM: "Custom",
  SSH_KEY: "SSH key",
  MTLS: "mTLS",
  CA_CERT: "CA certificate",
} as const;

export const SCOPE_LABELS = {
  WORKSPACE: "Workspace",
  PERSONAL: "Personal",
  ORGANIZATION: "Organization",
} as const;

export const PERMISSION_LABELS = {
  SECRETS_READ: { name: "secrets:read", help: "List credentials and their metadata (no values)" },
  SECRETS_WRITE: { name: "secrets:write", help: "Create, update, rotate and delete credentials" },
  SECRETS_RESOLVE: {
    name: "secrets:resolve",
    help: "Resolve expressions into values at run time (audited)",
  },
  OAUTH_MANAGE: { name: "oauth:manage", help: "Connect and disconnect OAuth providers" },
  AUDIT_READ: { name: "audit:read", help: "Read and verify the audit log" },
  ADMIN: { name: "admin", help: "Everything, including members and tokens" },
} as const;
