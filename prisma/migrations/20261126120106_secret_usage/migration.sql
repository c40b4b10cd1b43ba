-- CreateTable
CREATE TABLE "secret_usage" (
    "id" UUID NOT NULL,
    "secret_id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "environment" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "key_names" TEXT[],
    "actor_kind" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "on_behalf_of" UUID,
    "workflow_id" TEXT,
    "run_id" TEXT,
    "action_ref" TEXT,
    "event_position" BIGINT NOT NULL,
    "used_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "secret_usage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "secret_usage_secret_id_used_at_idx" ON "secret_usage"("secret_id", "used_at" DESC);

-- CreateIndex
CREATE INDEX "secrets_organization_id_name_idx" ON "secrets"("organization_id", "name");

-- AddForeignKey
ALTER TABLE "secret_usage" ADD CONSTRAINT "secret_usage_secret_id_fkey" FOREIGN KEY ("secret_id") REFERENCES "secrets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
