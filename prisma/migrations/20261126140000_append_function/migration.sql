-- One round trip per append (server/src/eventstore/append.ts): take the organization's
-- chain lock, check the stream's version, read the chain's head, and insert the events with
-- their hashes, all in one statement. The application computes each event's canonical JSON
-- (RFC 8785) with the three values only known here (position, previous hash, stream version)
-- left out: p_hash_parts holds, per event, the four pieces around them. The hash is
-- SHA-256 over the pieces joined with those values, exactly what eventstore/hashChain.ts
-- computes (the application recomputes it and refuses a mismatch).
--
-- Each statement of a VOLATILE plpgsql function takes a fresh snapshot (READ COMMITTED), so
-- the head read after the lock is the true head. SECURITY INVOKER: it runs with the
-- caller's rights (coffer_app may insert events, never change them).
CREATE FUNCTION coffer_append_events(
  p_chain_key text,
  p_stream_id text,
  p_organization_id uuid,
  p_expected_version int,
  p_types text[],
  p_schema_versions int[],
  p_data jsonb[],
  p_metadata jsonb,
  p_occurred_at timestamptz,
  p_hash_parts text[]
) RETURNS TABLE (event_position bigint, event_stream_version int, event_prev_hash text, event_hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_actual int;
  v_head text;
  v_position bigint;
  v_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_chain_key, 0));
  SELECT coalesce(max(e.stream_version), 0) INTO v_actual FROM events e WHERE e.stream_id = p_stream_id;
  IF p_expected_version IS NOT NULL AND p_expected_version <> v_actual THEN
    RAISE EXCEPTION 'coffer_concurrency: the stream is at version %', v_actual
      USING ERRCODE = 'CF001';
  END IF;
  IF p_organization_id IS NULL THEN
    SELECT e.hash INTO v_head FROM events e WHERE e.organization_id IS NULL ORDER BY e.position DESC LIMIT 1;
  ELSE
    SELECT e.hash INTO v_head FROM events e WHERE e.organization_id = p_organization_id ORDER BY e.position DESC LIMIT 1;
  END IF;
  v_head := coalesce(v_head, repeat('0', 64));
  FOR i IN 1 .. coalesce(array_length(p_types, 1), 0) LOOP
    v_position := nextval(pg_get_serial_sequence('events', 'position'));
    v_hash := encode(sha256(convert_to(
      p_hash_parts[4 * i - 3] || v_position::text || p_hash_parts[4 * i - 2] || v_head ||
      p_hash_parts[4 * i - 1] || (v_actual + i)::text || p_hash_parts[4 * i], 'UTF8')), 'hex');
    INSERT INTO events (position, stream_id, stream_version, type, schema_version, data, metadata,
                        organization_id, occurred_at, prev_hash, hash)
    VALUES (v_position, p_stream_id, v_actual + i, p_types[i], p_schema_versions[i], p_data[i],
            p_metadata, p_organization_id, p_occurred_at, v_head, v_hash);
    event_position := v_position;
    event_stream_version := v_actual + i;
    event_prev_hash := v_head;
    event_hash := v_hash;
    RETURN NEXT;
    v_head := v_hash;
  END LOOP;
END;
$$;
