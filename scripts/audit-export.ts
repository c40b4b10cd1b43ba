// `npm run audit:export -- --org <slug> [--since <position|time>] [--out <file>]`: writes an
// organization's audit log as NDJSON (to stdout, or atomically to --out) for an external
// verifier (`npm run audit:verify`). Reads the database the way `npm start` does: DATABASE_URL,
// or the embedded PostgreSQL in COFFER_DATA_DIR (connecting to it when `npm start` already
// runs it, starting and stopping it otherwise). Exit codes: 0 exported, 1 failed, 2 usage or
// configuration error.
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { exportEventLines, inChunks } from "../server/src/audit/exportEvents.ts";
import { parseSince } from "../server/src/audit/parseSince.ts";
import { createPrismaClient } from "../server/src/db/database.ts";
import { Failure, openDatabase } from "./cliDatabase.ts";
import { createCliRun } from "./cliRun.ts";

const USAGE = `Usage: npm run audit:export -- --org <slug> [--since <position|time>] [--out <file>]

  --org <slug>     the organization's slug
  --since <value>  a position: the events after it (the last position you already have);
                   an ISO 8601 date or date-time with a zone: from the first event at or after it
  --out <file>     write here (atomically, mode 0600) instead of standard output
`;

const cli = createCliRun("audit export");
const { cleanups, stopIfInterrupted } = cli;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        org: { type: "string" },
        since: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values } = args;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.org) {
    process.stderr.write(USAGE);
    return 2;
  }
  const since = values.since === undefined ? undefined : parseSince(values.since);
  if (since === null) {
    process.stderr.write(
      "--since must be a position (digits) or an ISO 8601 date or date-time with a zone, e.g. 2026-11-26T09:00:00Z\n",
    );
    return 2;
  }
  const config = cli.loadConfig();

  // The app's own login, which may read the events but never change them.
  const database = await openDatabase(config, {
    login: "app",
    purpose: "the export",
    onStartServer: cli.serverStarted,
  });
  cleanups.unshift(() => database.close());
  stopIfInterrupted();
  const db = createPrismaClient(database.url, 2);
  cleanups.unshift(() => db.$disconnect());

  const organization = await db.organization.findUnique({
    where: { slug: values.org },
    select: { id: true, deletedAt: true },
  });
  if (!organization) throw new Failure(`No organization has the slug "${values.org}".`);
  if (organization.deletedAt) {
    process.stderr.write(
      `note: this organization was deleted at ${organization.deletedAt.toISOString()}; its log is exported as it is\n`,
    );
  }

  const output = values.out ? await openOutputFile(values.out) : stdoutOutput();
  let count = 0;
  let last = "";
  async function* counted(lines: AsyncIterable<string>) {
    for await (const line of lines) {
      count++;
      last = line;
      yield line;
    }
  }
  try {
    for await (const chunk of inChunks(counted(exportEventLines(db, organization.id, { since })))) {
      stopIfInterrupted();
      await output.write(chunk);
    }
    stopIfInterrupted();
    await output.commit();
  } catch (error) {
    await output.discard();
    throw error;
  }

  const head = last ? (JSON.parse(last) as { position: string; hash: string }) : null;
  process.stderr.write(
    head
      ? `exported ${count} events of ${values.org} through position ${head.position}, head ${head.hash}${values.out ? ` to ${values.out}` : ""}\n`
      : `no events of ${values.org} to export${since ? " since then" : ""}\n`,
  );
  return 0;
}

type Output = {
  write(chunk: string): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
};

/** Written beside the target and renamed into place: a failed export leaves no short file. */
async function openOutputFile(target: string): Promise<Output> {
  const partial = path.join(
    path.dirname(target),
    `.${path.basename(target)}.partial-${process.pid}`,
  );
  const handle = await open(partial, "w", 0o600);
  const discard = async () => {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
  };
  cleanups.push(discard);
  return {
    async write(chunk) {
      let bytes = Buffer.from(chunk, "utf8");
      while (bytes.length > 0) {
        const { bytesWritten } = await handle.write(bytes);
        bytes = bytes.subarray(bytesWritten);
      }
    },
    async commit() {
      await handle.sync();
      await handle.close();
      await rename(partial, target);
      cleanups.splice(cleanups.indexOf(discard), 1);
    },
    discard,
  };
}

function stdoutOutput(): Output {
  return {
    write: (chunk) =>
      new Promise((resolve, reject) =>
        process.stdout.write(chunk, (error) => (error ? reject(error) : resolve())),
      ),
    commit: async () => undefined,
    discard: async () => undefined,
  };
}

await cli.exitWith(main);
