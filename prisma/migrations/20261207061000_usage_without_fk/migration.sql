-- See the comment on SecretUsage in schema.prisma: the usage projection is written on the
-- resolution hot path, and the per-row key check cost a third of a group-committed batch.
ALTER TABLE "secret_usage" DROP CONSTRAINT "secret_usage_secret_id_fkey";
