-- CreateTable
CREATE TABLE "rate_limits" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- The app counts and sweeps expired rows (rate-limiter-flexible's clearExpired); the
-- default privileges would grant this too, but say it where the table is made.
GRANT SELECT, INSERT, UPDATE, DELETE ON "rate_limits" TO coffer_app;
