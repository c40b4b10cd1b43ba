import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { lexicographicSortSchema, printSchema } from "graphql";
import { schema } from "./schema.ts";

/** `npm run schema:print` writes schema.graphql; `--check` fails when it is stale. */
const file = path.resolve(import.meta.dirname, "../../../schema.graphql");
const printed = `${printSchema(lexicographicSortSchema(schema))}\n`;

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(file, "utf8");
  } catch {
    // missing counts as stale
  }
  if (committed !== printed) {
    console.error("schema.graphql is stale: run `npm run schema:print` and commit the result.");
    process.exit(1);
  }
  process.stdout.write("schema.graphql is current\n");
} else {
  writeFileSync(file, printed);
  process.stdout.write(`wrote ${file}\n`);
}
