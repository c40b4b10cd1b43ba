import path from "node:path";
import { z } from "zod";

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
  COOKIE_SECURE: bool.optional(),
  CONSOLE_ENABLED: bool.default(true),
  COFFER_ADMIN_EMAIL: z.email().optional(),
  COFFER_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  COFFER_ORG_NAME: z.string().min(1).max(100).default("My organization"),
  COFFER_WORKSPACE_NAME: z.string().min(1).max(100).default("Default workspace"),
});

export type Config = {
  env: "development" | "test" | "production";
  host: string;
  port: number;
  logLevel: string;
  dataDir: string;
  database:
    | { kind: "external"; url: string; adminUrl: string }
    | { kind: "embedded"; port: number; dir: string };
  session: { ttlMs: number; secureCookie: boolean };
  console: { enabled: boolean; dir: string };
  firstRun: {
    email: string | undefined;
    password: string | undefined;
    orgName: string;
    workspaceName: string;
  };
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
    );
  }
  const c = parsed.data;
  const problems: string[] = [];
  if (c.DATABASE_ADMIN_URL && !c.DATABASE_URL) {
    problems.push("DATABASE_ADMIN_URL: only meaningful together with DATABASE_URL");
  }
  if ((c.COFFER_ADMIN_EMAIL === undefined) !== (c.COFFER_ADMIN_PASSWORD === undefined)) {
    problems.push("COFFER_ADMIN_EMAIL and COFFER_ADMIN_PASSWORD: set both or neither");
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(c.COFFER_DATA_DIR);
  return {
    env: c.NODE_ENV,
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
    console: { enabled: c.CONSOLE_ENABLED, dir: path.resolve("web") },
    firstRun: {
      email: c.COFFER_ADMIN_EMAIL,
      password: c.COFFER_ADMIN_PASSWORD,
      orgName: c.COFFER_ORG_NAME,
      workspaceName: c.COFFER_WORKSPACE_NAME,
    },
  };
}
