// `npm run db:diff -- <name>`: after a change to prisma/schema.prisma, writes the SQL that
// db:check reports as missing into a new prisma/migrations/<UTC timestamp>_<name>/migration.sql,
// in Prisma's own directory format. Hand-written SQL (triggers, grants) is appended to it
// afterwards, below the generated part.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { listMigrations } from "../server/src/db/migrate.ts";
import {
  diffMigrationsToSchema,
  migrationsDirectory,
  projectRoot,
  runScript,
} from "./schemaDiff.ts";

const usage = "usage: npm run db:diff -- <migration_name>   (lower-case letters, digits and _)";

// Prisma's `yyyymmddHHMMSS`, in UTC so that every developer's migrations sort the same way.
function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const name = args[0];
  if (args.length !== 1 || !name || !/^[a-z0-9][a-z0-9_]*$/.test(name)) {
    console.error(usage);
    return 2;
  }
  const directoryName = `${timestamp(new Date())}_${name}`;
  // Migrations are applied in name order: a new one must come last.
  const newest = listMigrations(migrationsDirectory).at(-1);
  if (newest && newest >= directoryName) {
    console.error(
      `the newest migration, ${newest}, does not sort before ${directoryName}: check the clock`,
    );
    return 2;
  }

  const sql = await diffMigrationsToSchema();
  if (sql === null) {
    console.error("schema.prisma already matches prisma/migrations: there is nothing to migrate");
    return 1;
  }
  const directory = join(migrationsDirectory, directoryName);
  await mkdir(directory);
  const file = join(directory, "migration.sql");
  await writeFile(file, sql.endsWith("\n") ? sql : `${sql}\n`, { flag: "wx" });
  process.stdout.write(sql.endsWith("\n") ? sql : `${sql}\n`);
  console.error(
    `\nwrote ${relative(projectRoot, file)}; append any hand-written SQL below the generated part`,
  );
  return 0;
}

process.exit(await runScript(main));
