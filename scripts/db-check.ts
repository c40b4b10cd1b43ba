// `npm run db:check`: fails when prisma/schema.prisma and prisma/migrations have drifted
// apart, printing the SQL that a database migrated with every migration would still need.
// Exit codes: 0 in sync, 1 drift, 2 error.
import { diffMigrationsToSchema, runScript } from "./schemaDiff.ts";

async function main(): Promise<number> {
  const sql = await diffMigrationsToSchema();
  if (sql === null) {
    process.stdout.write("schema.prisma matches prisma/migrations\n");
    return 0;
  }
  process.stderr.write(
    "schema.prisma and prisma/migrations have drifted apart. After applying every migration, " +
      "Prisma would still need:\n\n",
  );
  process.stdout.write(sql.endsWith("\n") ? sql : `${sql}\n`);
  process.stderr.write(
    "\nIf schema.prisma is right, add a migration with `npm run db:diff -- <name>`; otherwise fix the migration.\n",
  );
  return 1;
}

process.exit(await runScript(main));
