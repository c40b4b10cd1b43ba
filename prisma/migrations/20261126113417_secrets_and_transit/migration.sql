-- AlterTable
-- Hand-edited: organizations created before this migration get their key name first.
ALTER TABLE "organizations" ADD COLUMN     "deleted_at" TIMESTAMPTZ(3),
ADD COLUMN     "transit_key" TEXT;
UPDATE "organizations" SET "transit_key" = 'coffer-org-' || "id";
ALTER TABLE "organizations" ALTER COLUMN "transit_key" SET NOT NULL;

-- CreateTable
CREATE TABLE "secrets" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "workspace_id" UUID,
    "owner_user_id" UUID,
    "scope" TEXT NOT NULL,
    "scope_key" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "template_id" TEXT,
    "description" TEXT,
    "key_names" TEXT[],
    "current_version" INTEGER NOT NULL,
    "stream_version" INTEGER NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "secrets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "secret_versions" (
    "secret_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "organization_id" UUID NOT NULL,
    "key_names" TEXT[],
    "ciphertext" TEXT,
    "key_version" INTEGER,
    "origin" TEXT NOT NULL,
    "restored_from" INTEGER,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "pruned_at" TIMESTAMPTZ(3),

    CONSTRAINT "secret_versions_pkey" PRIMARY KEY ("secret_id","version")
);

-- CreateTable
CREATE TABLE "transit_keyrings" (
    "name" TEXT NOT NULL,
    "latest_version" INTEGER NOT NULL,
    "min_decryption_version" INTEGER NOT NULL,
    "keys" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "transit_keyrings_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "rewrap_jobs" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "target_key_version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "rewrapped" INTEGER NOT NULL,
    "last_error" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rewrap_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "secrets_organization_id_environment_name_idx" ON "secrets"("organization_id", "environment", "name");

-- CreateIndex
CREATE INDEX "secrets_workspace_id_environment_idx" ON "secrets"("workspace_id", "environment");

-- CreateIndex
CREATE UNIQUE INDEX "secrets_organization_id_scope_key_environment_name_key" ON "secrets"("organization_id", "scope_key", "environment", "name") WHERE (deleted_at IS NULL);

-- CreateIndex
CREATE INDEX "secret_versions_organization_id_key_version_idx" ON "secret_versions"("organization_id", "key_version");

-- CreateIndex
CREATE INDEX "rewrap_jobs_organization_id_started_at_idx" ON "rewrap_jobs"("organization_id", "started_at");

-- AddForeignKey
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "secret_versions" ADD CONSTRAINT "secret_versions_secret_id_fkey" FOREIGN KEY ("secret_id") REFERENCES "secrets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
