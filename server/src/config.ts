import path from "node:path";
import { z } from "zod";
import type { Cidr } from "./net/addressPolicy.ts";
import { parseCidrList } from "./net/egressCidrs.ts";
import { parseProxyEntry } from "./http/clientAddress.ts";

/**
 * The only reader of the environment. Every problem is reported at once; callers
 * (main.ts, tests) decide whether to exit.
 */
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const schema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  COFFER_DATA_DIR: z.string().min(1).default("./.coffer"),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_ADMIN_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  INVITATION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(24 * 7),
  COOKIE_SECURE: bool.optional(),
  CONSOLE_ENABLED: bool.default(true),
  COFFER_ADMIN_EMAIL: z.email().optional(),
  COFFER_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  COFFER_ORG_NAME: z.string().min(1).max(100).default("My organization"),
  COFFER_WORKSPACE_NAME: z.string().min(1).max(100).default("Default workspace"),
  VAULT_ADDR: z.url({ protocol: /^https?$/ }).optional(),
  VAULT_TOKEN: z.string().min(1).optional(),
  VAULT_TOKEN_FILE: z.string().min(1).optional(),
  VAULT_ROLE_ID: z.string().min(1).optional(),
  VAULT_SECRET_ID: z.string().min(1).optional(),
  VAULT_TRANSIT_MOUNT: z
    .string()
    .regex(
      /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/,
      "must be a mount path such as transit or teams/coffer-transit (no leading or trailing /)",
    )
    .default("transit"),
  VAULT_NAMESPACE: z.string().min(1).optional(),
  VAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(5000),
  COFFER_MASTER_KEY: z
    .string()
    .refine(
      (value) => decodeMasterKey(value) !== undefined,
      "must be the base64 encoding of exactly 32 bytes (for example `openssl rand -base64 32`)",
    )
    .optional(),
  AWS_STS_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_ALLOW_LOOPBACK_HTTP: bool.default(false),
  WEBHOOKS_ALLOW_LOOPBACK_HTTP: bool.default(false),
  RATE_LIMIT_SIGN_INS_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_RESOLUTIONS_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  COFFER_ROLE: z.enum(["all", "api", "worker"]).default("all"),
  WEBHOOK_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  REWRAP_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  EGRESS_ALLOW_CIDRS: z
    .string()
    .default("")
    .superRefine((value, ctx) => {
      for (const message of parseCidrList(value).problems)
        ctx.addIssue({ code: "custom", message });
    })
    .transform((value) => parseCidrList(value).cidrs),
  EGRESS_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  EGRESS_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  TRUSTED_PROXIES: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine(
      (entries) => entries.every((entry) => parseProxyEntry(entry) !== undefined),
      "must be a comma-separated list of IP addresses or CIDR ranges (for example 10.0.0.0/8,127.0.0.1)",
    )
    .default([]),
});

/** Vault authentication: one of a token, a token file (re-read when it changes), AppRole. */
export type VaultAuthConfig =
  | { kind: "token"; token: string }
  | { kind: "tokenFile"; path: string }
  | { kind: "appRole"; roleId: string; secretId: string };

/** Vault's transit engine when VAULT_ADDR is set; otherwise the embedded LocalTransit. */
export type TransitConfig =
  | { kind: "local"; masterKey: Buffer | undefined }
  | {
      kind: "vault";
      address: string;
      auth: VaultAuthConfig;
      mount: string;
      namespace: string | undefined;
      timeoutMs: number;
    };

/**
 * What this process runs. `api`: HTTP (GraphQL, console, health) and nothing in the
 * background; `worker`: the background jobs (webhook delivery) with only /healthz,
 * /readyz and /metrics on its port; `all`: both, for one-process setups.
 */
export type Role = "all" | "api" | "worker";

export type Config = {
  env: "development" | "test" | "production";
  role: Role;
  host: string;
  port: number;
  logLevel: string;
  dataDir: string;
  database:
    | { kind: "external"; url: string; adminUrl: string }
    | { kind: "embedded"; port: number; dir: string };
  session: { ttlMs: number; secureCookie: boolean };
  /** How long an invitation link works. */
  invitationTtlMs: number;
  console: { enabled: boolean; dir: string };
  firstRun: {
    email: string | undefined;
    password: string | undefined;
    orgName: string;
    workspaceName: string;
  };
  transit: TransitConfig;
  /** STS for dynamic AWS credentials; the SDK's regional endpoint unless overridden. */
  aws: { stsEndpoint: string | undefined };
  /** Where browsers reach Coffer (OAuth redirect URIs); defaults to http://HOST:PORT. */
  publicUrl: string | undefined;
  /** Development only: accept http:// OAuth endpoints on loopback addresses. */
  oauthAllowLoopbackHttp: boolean;
  /** Development only: accept http:// webhook receivers on loopback addresses. */
  webhooksAllowLoopbackHttp: boolean;
  /** Per minute: sign-ins per email and address, resolutions per token or user. */
  rateLimits: { signInsPerMinute: number; resolutionsPerMinute: number };
  /** How long a replica's claim on a webhook subscription lasts unless renewed. */
  webhooks: { leaseMs: number };
  rewrap: { leaseMs: number };
  /**
   * Requests to tenant-chosen addresses (OAuth endpoints, webhooks; see net/egress.ts):
   * ranges allowed beyond public addresses, and the caps on each exchange.
   */
  egress: { allowCidrs: readonly Cidr[]; timeoutMs: number; maxResponseBytes: number };
  /**
   * Reverse proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client, for
   * the sign-in rate limit and the audit log's `ip`. Empty: the TCP peer is the client.
   */
  trustedProxies: string[];
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  // Rules across variables look only at which ones are set, so they are reported together
  // with the per-variable problems.
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map(
          (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
        )),
    ...crossVariableProblems(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const c = parsed.data;

  const dataDir = path.resolve(c.COFFER_DATA_DIR);
  return {
    env: c.NODE_ENV,
    role: c.COFFER_ROLE,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    dataDir,
    database: c.DATABASE_URL
      ? { kind: "external", url: c.DATABASE_URL, adminUrl: c.DATABASE_ADMIN_URL ?? c.DATABASE_URL }
      : { kind: "embedded", port: c.EMBEDDED_POSTGRES_PORT, dir: path.join(dataDir, "postgres") },
    session: {
      ttlMs: c.SESSION_TTL_HOURS * 3600_000,
      secureCookie: c.COOKIE_SECURE ?? c.NODE_ENV === "production",
    },
    invitationTtlMs: c.INVITATION_TTL_HOURS * 3600_000,
    console: { enabled: c.CONSOLE_ENABLED, dir: path.resolve("web") },
    firstRun: {
      email: c.COFFER_ADMIN_EMAIL,
      password: c.COFFER_ADMIN_PASSWORD,
      orgName: c.COFFER_ORG_NAME,
      workspaceName: c.COFFER_WORKSPACE_NAME,
    },
    transit: c.VAULT_ADDR
      ? {
          kind: "vault",
          address: c.VAULT_ADDR.replace(/\/+$/, ""),
          auth: c.VAULT_TOKEN
            ? { kind: "token", token: c.VAULT_TOKEN }
            : c.VAULT_TOKEN_FILE
              ? { kind: "tokenFile", path: path.resolve(c.VAULT_TOKEN_FILE) }
              : { kind: "appRole", roleId: c.VAULT_ROLE_ID!, secretId: c.VAULT_SECRET_ID! },
          mount: c.VAULT_TRANSIT_MOUNT,
          namespace: c.VAULT_NAMESPACE,
          timeoutMs: c.VAULT_TIMEOUT_MS,
        }
      : {
          kind: "local",
          masterKey:
            c.COFFER_MASTER_KEY === undefined ? undefined : decodeMasterKey(c.COFFER_MASTER_KEY),
        },
    aws: { stsEndpoint: c.AWS_STS_ENDPOINT },
    publicUrl: c.PUBLIC_URL?.replace(/\/+$/, ""),
    oauthAllowLoopbackHttp: c.OAUTH_ALLOW_LOOPBACK_HTTP,
    webhooksAllowLoopbackHttp: c.WEBHOOKS_ALLOW_LOOPBACK_HTTP,
    rateLimits: {
      signInsPerMinute: c.RATE_LIMIT_SIGN_INS_PER_MINUTE,
      resolutionsPerMinute: c.RATE_LIMIT_RESOLUTIONS_PER_MINUTE,
    },
    webhooks: { leaseMs: c.WEBHOOK_LEASE_MS },
    rewrap: { leaseMs: c.REWRAP_LEASE_MS },
    egress: {
      allowCidrs: c.EGRESS_ALLOW_CIDRS,
      timeoutMs: c.EGRESS_TIMEOUT_MS,
      maxResponseBytes: c.EGRESS_MAX_RESPONSE_BYTES,
    },
    trustedProxies: c.TRUSTED_PROXIES,
  };
}

const VAULT_ONLY = [
  "VAULT_TOKEN",
  "VAULT_TOKEN_FILE",
  "VAULT_ROLE_ID",
  "VAULT_SECRET_ID",
  "VAULT_TRANSIT_MOUNT",
  "VAULT_NAMESPACE",
  "VAULT_TIMEOUT_MS",
] as const;

function crossVariableProblems(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => env[name] !== undefined;
  const problems: string[] = [];
  if (set("DATABASE_ADMIN_URL") && !set("DATABASE_URL")) {
    problems.push("DATABASE_ADMIN_URL: only meaningful together with DATABASE_URL");
  }
  // A split only makes sense on a shared PostgreSQL: the embedded one belongs to one process.
  if ((env.COFFER_ROLE === "api" || env.COFFER_ROLE === "worker") && !set("DATABASE_URL")) {
    problems.push(
      `COFFER_ROLE: ${env.COFFER_ROLE} runs beside other replicas on one PostgreSQL; set DATABASE_URL (the embedded PostgreSQL serves only COFFER_ROLE=all)`,
    );
  }
  if (set("COFFER_ADMIN_EMAIL") !== set("COFFER_ADMIN_PASSWORD")) {
    problems.push("COFFER_ADMIN_EMAIL and COFFER_ADMIN_PASSWORD: set both or neither");
  }
  if (set("VAULT_ADDR")) {
    if (set("VAULT_ROLE_ID") !== set("VAULT_SECRET_ID")) {
      problems.push("VAULT_ROLE_ID and VAULT_SECRET_ID: set both or neither (AppRole login)");
    }
    const methods = [
      set("VAULT_TOKEN") && "VAULT_TOKEN",
      set("VAULT_TOKEN_FILE") && "VAULT_TOKEN_FILE",
      (set("VAULT_ROLE_ID") || set("VAULT_SECRET_ID")) && "VAULT_ROLE_ID/VAULT_SECRET_ID",
    ].filter((method) => method !== false);
    if (methods.length !== 1) {
      problems.push(
        `VAULT_ADDR: set exactly one way to authenticate to Vault: VAULT_TOKEN, VAULT_TOKEN_FILE, or VAULT_ROLE_ID with VAULT_SECRET_ID (${methods.length === 0 ? "none is set" : `set: ${methods.join(", ")}`})`,
      );
    }
    if (set("COFFER_MASTER_KEY")) {
      problems.push(
        "COFFER_MASTER_KEY: only used by the embedded transit engine; unset it when VAULT_ADDR is set",
      );
    }
  } else {
    for (const name of VAULT_ONLY) {
      if (set(name)) {
        problems.push(
          `${name}: only used with VAULT_ADDR; without VAULT_ADDR Coffer uses its embedded transit engine`,
        );
      }
    }
  }
  return problems;
}

/** The 32 bytes of a base64 (or base64url) master key, or undefined when it is not one. */
function decodeMasterKey(value: string): Buffer | undefined {
  const normalized = value.trim().replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(normalized)) return undefined;
  const key = Buffer.from(normalized, "base64");
  if (key.length !== 32 || key.toString("base64").replace(/=+$/, "") !== normalized)
    return undefined;
  return key;
}
