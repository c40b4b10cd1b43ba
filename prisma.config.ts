import { defineConfig } from "prisma/config";

// The CLI is only used for `prisma generate`: migrations are applied by
// server/src/db/migrate.ts, so no datasource URL is read here (reading an unset
// DATABASE_URL would make every CLI call fail).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
