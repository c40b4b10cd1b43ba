-- TOTP multi-factor authentication (auth/mfaService.ts).
-- A user's TOTP seed is credential state, encrypted by transit (key coffer-users) and kept
-- out of the event log, like an API token's hash: pending until the first code confirms
-- it, then enabled. totp_last_step refuses a code used twice (replay).
ALTER TABLE users
  ADD COLUMN totp_ciphertext text,
  ADD COLUMN totp_pending_ciphertext text,
  ADD COLUMN totp_enabled_at timestamptz(3),
  ADD COLUMN totp_last_step bigint;

-- Single-use recovery codes: only their SHA-256 is stored.
CREATE TABLE recovery_codes (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  code_hash char(64) NOT NULL UNIQUE,
  created_at timestamptz(3) NOT NULL,
  used_at timestamptz(3)
);
CREATE INDEX recovery_codes_user_id_idx ON recovery_codes (user_id);
ALTER TABLE recovery_codes ADD CONSTRAINT recovery_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT ON UPDATE CASCADE;

-- Whether a session was opened with a second factor, and whether an organization demands
-- one of its members' sessions (a projection of OrganizationMfaRequirementChanged).
ALTER TABLE sessions ADD COLUMN mfa_verified boolean NOT NULL DEFAULT false;
ALTER TABLE organizations ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

GRANT SELECT, INSERT, UPDATE ON recovery_codes TO coffer_app;
