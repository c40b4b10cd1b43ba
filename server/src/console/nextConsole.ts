import { spawn, type ChildProcess } from "node:child_process";
import { access } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import type nextModule from "next";

/** The subset of pino's interface the console needs (pino's `Logger` satisfies it). */
export interface ConsoleLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export interface ConsoleHandle {
  /** Serves every request the API does not route itself (same port, same origin). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Settles once the console serves pages; rejects when its build or start fails. */
  ready: Promise<void>;
  /** Stops a running build or the Next server. Idempotent. */
  close(): Promise<void>;
}

// `next` is CommonJS (`module.exports = createServer`) with typings that say `export default`.
// Node hands ESM the function as the default import; TypeScript under NodeNext types that
// default import as the whole module, so the function's type sits one `.default` deeper.
type CreateNextServer = typeof nextModule.default;
type NextApp = ReturnType<CreateNextServer>;
type NextRequestHandler = ReturnType<NextApp["getRequestHandler"]>;

type State =
  | { kind: "starting" }
  | { kind: "ready"; app: NextApp; handler: NextRequestHandler }
  | { kind: "failed" }
  | { kind: "closed" };

const log = { component: "console" } as const;

/**
 * Serves the Next.js admin console from inside the API process.
 *
 * Returns at once: when `<dir>/.next/BUILD_ID` is missing it runs `next build` in a child
 * process first, and until the console is ready `handle` answers 503 with a page that
 * refreshes itself. A failed build never takes the API down: `handle` keeps answering 503 and
 * `ready` rejects for the caller to log.
 */
export async function createConsole(options: {
  dir: string;
  logger: ConsoleLogger;
}): Promise<ConsoleHandle> {
  const dir = path.resolve(options.dir);
  const { logger } = options;
  let state: State = { kind: "starting" };
  let buildProcess: ChildProcess | undefined;
  // A function, so TypeScript does not narrow `state` across the awaits where close() may run.
  const isClosed = (): boolean => state.kind === "closed";

  const start = async (): Promise<void> => {
    if (!(await fileExists(path.join(dir, ".next", "BUILD_ID")))) {
      await buildConsole(dir, logger, {
        onSpawn: (child) => {
          buildProcess = child;
        },
        isCancelled: isClosed,
      });
      buildProcess = undefined;
    }
    if (isClosed()) throw closedBeforeStart();

    // Imported lazily: loading Next installs its require hooks and takes a moment, neither of
    // which the API should pay for before it can answer /healthz.
    const createNextServer = (await import("next")).default as unknown as CreateNextServer;
    const app = createNextServer({ dev: false, dir });
    await app.prepare();
    if (isClosed()) {
      await app.close();
      throw closedBeforeStart();
    }
    state = { kind: "ready", app, handler: app.getRequestHandler() };
    logger.info({ ...log, dir }, "admin console ready");
  };

  const ready = start().catch((err: unknown) => {
    if (!isClosed()) state = { kind: "failed" };
    throw err;
  });
  // The caller is expected to attach its own handler; this one only keeps a caller that
  // forgets from crashing the API with an unhandled rejection.
  ready.catch(() => {});

  return {
    ready,
    handle(req, res) {
      switch (state.kind) {
        case "ready":
          state.handler(req, res).catch((err: unknown) => {
            // The path only: a query string may carry codes or tokens.
            const pathname = req.url?.split("?", 1)[0];
            logger.error({ ...log, err, path: pathname }, "admin console request failed");
            if (!res.headersSent) sendPage(req, res, 500, pages.internalError);
            else res.end();
          });
          return;
        case "starting":
          sendPage(req, res, 503, pages.starting, { retryAfterSeconds: 2 });
          return;
        case "failed":
          sendPage(req, res, 503, pages.failed);
          return;
        case "closed":
          sendPage(req, res, 503, pages.closed);
          return;
        default:
          return assertNever(state);
      }
    },
    async close() {
      const previous = state;
      state = { kind: "closed" };
      buildProcess?.kill("SIGTERM");
      if (previous.kind === "ready") await previous.app.close();
    },
  };
}

async function buildConsole(
  dir: string,
  logger: ConsoleLogger,
  { onSpawn, isCancelled }: { onSpawn(child: ChildProcess): void; isCancelled(): boolean },
): Promise<void> {
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const startedAt = performance.now();
  logger.info({ ...log, dir }, "admin console build started (next build)");

  const child = spawn(process.execPath, [nextBin, "build", dir], {
    // Passed through, not interpreted (config.ts owns configuration): the child needs the
    // ordinary environment plus switches that keep it offline, uncoloured and in production mode.
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_ENV: "production",
      NO_COLOR: "1",
      FORCE_COLOR: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  onSpawn(child);
  forwardLines(child.stdout, (line) => logger.info({ ...log, build: "stdout" }, line));
  forwardLines(child.stderr, (line) => logger.warn({ ...log, build: "stderr" }, line));

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => resolve({ code, signal }));
    },
  );
  const durationMs = Math.round(performance.now() - startedAt);
  if (isCancelled()) {
    logger.info({ ...log, dir, durationMs }, "admin console build stopped: the server is closing");
    throw closedBeforeStart();
  }
  if (exit.code !== 0) {
    logger.error({ ...log, dir, durationMs, ...exit }, "admin console build failed");
    throw new Error(
      `next build ${dir} failed (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}); its output is in the log above`,
    );
  }
  logger.info({ ...log, dir, durationMs }, "admin console build finished");
}

function closedBeforeStart(): Error {
  return new Error("The admin console was closed before it started");
}

function forwardLines(stream: NodeJS.ReadableStream | null, emit: (line: string) => void): void {
  if (!stream) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on("line", (line) => {
    const trimmed = line.trimEnd();
    if (trimmed) emit(trimmed);
  });
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

interface Page {
  title: string;
  body: string;
  refresh?: boolean;
}

// Static text only: nothing from the request, the environment or the build output reaches
// these pages, so they need no escaping and reveal nothing about the server.
const pages = {
  starting: {
    title: "The admin console is starting…",
    body: "This page refreshes itself every two seconds until the console is ready.",
    refresh: true,
  },
  failed: {
    title: "The admin console is unavailable",
    body: "Building the console failed, so it cannot be served. The API keeps running; the server log has the build output.",
  },
  closed: {
    title: "The admin console is shutting down",
    body: "The server is stopping. Try again in a moment.",
  },
  internalError: {
    title: "Something went wrong",
    body: "The console could not render this page. The server log has the details.",
  },
} satisfies Record<string, Page>;

function sendPage(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  page: Page,
  { retryAfterSeconds }: { retryAfterSeconds?: number } = {},
): void {
  const refresh = page.refresh ? '<meta http-equiv="refresh" content="2">' : "";
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh}<title>${page.title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1b1f24}h1{font-size:1.5rem}</style>
</head>
<body>
<main>
<h1>${page.title}</h1>
<p>${page.body}</p>
</main>
</body>
</html>
`;
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(html));
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Content-Type-Options", "nosniff");
  if (retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(retryAfterSeconds));
  res.end(req.method === "HEAD" ? undefined : html);
}

function assertNever(value: never): never {
  throw new Error(`Unhandled console state: ${JSON.stringify(value)}`);
}
