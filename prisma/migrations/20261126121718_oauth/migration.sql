-- CreateTable
CREATE TABLE "oauth_providers" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "provider_id" TEXT NOT NULL,
    "builtin" BOOLEAN NOT NULL,
    "name" TEXT NOT NULL,
    "authorization_endpoint" TEXT,
    "token_endpoint" TEXT NOT NULL,
    "default_scopes" TEXT[],
    "grant_types" TEXT[],
    "client_id" TEXT NOT NULL,
    "client_secret_ciphertext" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "oauth_providers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "oauth_connections" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "provider_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "access_token_ciphertext" TEXT,
    "refresh_token_ciphertext" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "scopes" TEXT[],
    "connected_by" TEXT NOT NULL,
    "connected_at" TIMESTAMPTZ(3) NOT NULL,
    "refreshed_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "disconnected_at" TIMESTAMPTZ(3),

    CONSTRAINT "oauth_connections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "oauth_states" (
    "state" TEXT NOT NULL,
    "session_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "provider_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "code_verifier" TEXT NOT NULL,
    "scopes" TEXT[],
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "oauth_states_pkey" PRIMARY KEY ("state")
);

-- CreateIndex
CREATE UNIQUE INDEX "oauth_providers_workspace_id_provider_id_key" ON "oauth_providers"("workspace_id", "provider_id") WHERE (deleted_at IS NULL);

-- CreateIndex
CREATE UNIQUE INDEX "oauth_connections_workspace_id_provider_id_environment_kind_key" ON "oauth_connections"("workspace_id", "provider_id", "environment", "kind") WHERE (disconnected_at IS NULL);
