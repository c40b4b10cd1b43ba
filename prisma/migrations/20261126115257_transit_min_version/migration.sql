-- AlterTable
ALTER TABLE "organizations" ADD COLUMN     "transit_min_version" INTEGER NOT NULL DEFAULT 1;
