-- Per-organization OpenID Connect single sign-on (sso/ssoService.ts).
-- The connection is operational state written beside its events (stream `sso-<org>`),
-- like OAuth providers; its client secret is a transit ciphertext under the organization's
-- key, never in the event log.
CREATE TABLE sso_connections (
  organization_id uuid PRIMARY KEY,
  issuer text NOT NULL,
  client_id text NOT NULL,
  client_secret_ciphertext text NOT NULL,
  email_domains text[] NOT NULL,
  default_role text NOT NULL,
  created_at timestamptz(3) NOT NULL,
  updated_at timestamptz(3) NOT NULL
);
ALTER TABLE sso_connections ADD CONSTRAINT sso_connections_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE RESTRICT ON UPDATE CASCADE;

-- A sign-in on its way to the identity provider and back: single-use, expiring, bound to
-- the browser that started it (the SHA-256 of a cookie), PKCE and nonce kept server-side.
CREATE TABLE sso_logins (
  id uuid PRIMARY KEY,
  state_hash char(64) NOT NULL,
  browser_hash char(64) NOT NULL,
  organization_id uuid NOT NULL,
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  created_at timestamptz(3) NOT NULL,
  expires_at timestamptz(3) NOT NULL,
  used_at timestamptz(3)
);
CREATE UNIQUE INDEX sso_logins_state_hash_key ON sso_logins (state_hash);

-- Who an identity provider's subject is, per organization and issuer.
CREATE TABLE sso_identities (
  organization_id uuid NOT NULL,
  issuer text NOT NULL,
  subject text NOT NULL,
  user_id uuid NOT NULL,
  created_at timestamptz(3) NOT NULL,
  CONSTRAINT sso_identities_pkey PRIMARY KEY (organization_id, issuer, subject)
);
CREATE INDEX sso_identities_user_id_idx ON sso_identities (user_id);
ALTER TABLE sso_identities ADD CONSTRAINT sso_identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT ON UPDATE CASCADE;

-- An account made by single sign-on has no password until its owner sets one.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
-- A session opened by an organization's single sign-on acts in that organization only.
ALTER TABLE sessions ADD COLUMN sso_organization_id uuid;
-- Members act in the organization only from its single sign-on (OWNERs excepted).
ALTER TABLE organizations ADD COLUMN sso_required boolean NOT NULL DEFAULT false;

GRANT SELECT, INSERT, UPDATE ON sso_connections, sso_logins, sso_identities TO coffer_app;
