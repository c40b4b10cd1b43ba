// `npm run audit:verify -- <file|-> [--partial | --anchor <hash>]`: recomputes the hash
// chain of an audit export (npm run audit:export, or GET /audit/export) without any access
// to Coffer. Exit codes: 0 verified, 1 not verified (the first bad line is named), 2 usage
// or read error.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createExportVerifier, type ExportAnchor } from "../server/src/audit/verifyExport.ts";

const USAGE = `Usage: npm run audit:verify -- <file|-> [--partial | --anchor <hash>]

  <file>           an NDJSON audit export; - reads standard input
  --partial        the export was made with --since: accept its first prevHash as the anchor
  --anchor <hash>  the export must continue from this hash (e.g. the head of the previous export)
`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        partial: { type: "boolean", default: false },
        anchor: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || (values.partial && values.anchor !== undefined)) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (values.anchor !== undefined && !/^[0-9a-f]{64}$/.test(values.anchor)) {
    process.stderr.write("--anchor must be a hash: 64 lowercase hex digits\n");
    return 2;
  }
  const anchor: ExportAnchor = values.partial
    ? "first-line"
    : values.anchor !== undefined
      ? { hash: values.anchor }
      : "genesis";

  const file = positionals[0]!;
  const input = file === "-" ? process.stdin : createReadStream(file, { encoding: "utf8" });
  const verifier = createExportVerifier({ anchor });
  try {
    // Line by line: memory stays constant whatever the size of the export.
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (!verifier.push(line)) break;
    }
  } catch (error) {
    process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  } finally {
    if (file !== "-") (input as ReturnType<typeof createReadStream>).destroy();
  }

  const result = verifier.result();
  if (result.ok) {
    process.stdout.write(`verified ${result.count} events, head ${result.headHash ?? "none"}\n`);
    if (anchor === "first-line" && result.anchor) {
      process.stdout.write(
        `anchored at ${result.anchor} (the first event's prevHash: compare it with the head of the export before)\n`,
      );
    }
    return 0;
  }
  process.stderr.write(
    `NOT verified: line ${result.line} (position ${result.position ?? "unknown"}): ${result.reason}: ${result.detail}\n` +
      `${result.count} events before it verified\n`,
  );
  return 1;
}

const code = await main();
// Let stdout and stderr drain before exiting (they may be pipes).
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
process.exit(code);
