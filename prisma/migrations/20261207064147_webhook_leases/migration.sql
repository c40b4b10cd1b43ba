-- AlterTable
ALTER TABLE "webhook_subscriptions" ADD COLUMN     "lease_owner" TEXT,
ADD COLUMN     "lease_until" TIMESTAMPTZ(3);
