-- Re-wrap jobs run on any worker replica: one runner at a time holds a lease, and every
-- write it makes is conditional on the fencing token (`fence`) it got with the lease.
ALTER TABLE "rewrap_jobs" ADD COLUMN     "lease_owner" TEXT,
ADD COLUMN     "lease_until" TIMESTAMPTZ(3),
ADD COLUMN     "fence" BIGINT NOT NULL DEFAULT 0;

-- One open job per organization and target version: two concurrent starts share it.
CREATE UNIQUE INDEX "rewrap_jobs_open_key" ON "rewrap_jobs"("organization_id", "target_key_version") WHERE (status <> 'COMPLETED');
