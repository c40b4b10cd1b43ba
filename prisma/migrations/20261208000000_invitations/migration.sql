-- Invitations to organizations (tenancy/invitations.ts), a projection of the streams
-- `invitation-<id>`. The link is shown once to the administrator; only its SHA-256 is
-- stored, and, like an API token's hash, it never enters the event log.
CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  email text NOT NULL,
  role text NOT NULL,
  token_hash char(64) NOT NULL,
  invited_by uuid NOT NULL,
  created_at timestamptz(3) NOT NULL,
  expires_at timestamptz(3) NOT NULL,
  status text NOT NULL,
  accepted_user_id uuid,
  closed_at timestamptz(3)
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
CREATE INDEX invitations_organization_id_status_idx ON invitations (organization_id, status);
CREATE INDEX invitations_status_expires_at_idx ON invitations (status, expires_at);
ALTER TABLE invitations ADD CONSTRAINT invitations_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE RESTRICT ON UPDATE CASCADE;
-- One pending invitation per address and organization: inviting again replaces it.
CREATE UNIQUE INDEX "invitations_one_pending" ON "invitations"("organization_id", "email") WHERE (status = 'PENDING');
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check CHECK (status IN ('PENDING', 'ACCEPTED', 'REVOKED', 'EXPIRED'));

GRANT SELECT, INSERT, UPDATE ON invitations TO coffer_app;
