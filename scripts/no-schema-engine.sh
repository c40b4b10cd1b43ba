#!/bin/sh
echo "The native Prisma schema engine is not used by Coffer: migrations are applied by server/src/db/migrate.ts (npm run db:migrate)." >&2
exit 1
