-- API tokens are cached in process for the resolution hot path (tenancy/apiTokenCache.ts).
-- Two things keep a revocation counting at once on every replica:
--
-- 1. Every change of what authenticates a token (revoked, expiry, permissions, scope,
--    hash, the row itself) is announced on coffer_api_tokens when it commits; every
--    process drops its cached tokens on it. last_used_at is bookkeeping and announces
--    nothing.
CREATE FUNCTION coffer_api_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('coffer_api_tokens', coalesce(OLD.id, NEW.id)::text);
  RETURN NULL;
END;
$$;
CREATE TRIGGER coffer_api_token_changed
  AFTER UPDATE OF revoked_at, expires_at, permissions, token_hash, workspace_id, organization_id OR DELETE
  ON api_tokens FOR EACH ROW EXECUTE FUNCTION coffer_api_token_changed();

-- 2. The statement that makes resolutions' usage events durable checks, in the same
--    statement, that every API token it records is still live at the event's time, and fails as a whole
--    (SQLSTATE CF401, the dead token ids in DETAIL) if one is not: a resolution whose token
--    was revoked before its event committed gets no values, cached or not
--    (resolution/usageLog.ts retries the batch without it).
CREATE FUNCTION coffer_require_live_tokens(token_ids uuid[], ats timestamptz[]) RETURNS boolean
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  dead text;
BEGIN
  SELECT string_agg(DISTINCT u.id::text, ',') INTO dead
  FROM unnest(token_ids, ats) AS u(id, at)
  WHERE u.id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM api_tokens a
    WHERE a.id = u.id AND a.revoked_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > u.at));
  IF dead IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'CF401', MESSAGE = 'an API token is no longer valid', DETAIL = dead;
  END IF;
  RETURN true;
END;
$$;
