-- Group commit (server/src/eventstore/groupCommit.ts): many queued events of one
-- organization, each on its own stream without an expected version (usage streams), with
-- its own metadata and time, appended under ONE acquisition of the organization's chain
-- lock, in one statement, in the order given. Positions increase in array order, each
-- event's previous hash is the one before it, and each stream's version is its last one
-- plus one (streams repeated in a batch count up). The hash pieces are exactly those of
-- coffer_append_events (4 per event); see its migration.
CREATE FUNCTION coffer_append_batch(
  p_chain_key text,
  p_organization_id uuid,
  p_stream_ids text[],
  p_types text[],
  p_schema_versions int[],
  p_data jsonb[],
  p_metadata jsonb[],
  p_occurred_at timestamptz[],
  p_hash_parts text[]
) RETURNS TABLE (event_index int, event_position bigint, event_stream_version int, event_prev_hash text, event_hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_versions jsonb := '{}'::jsonb;
  v_version int;
  v_head text;
  v_position bigint;
  v_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_chain_key, 0));
  IF p_organization_id IS NULL THEN
    SELECT e.hash INTO v_head FROM events e WHERE e.organization_id IS NULL ORDER BY e.position DESC LIMIT 1;
  ELSE
    SELECT e.hash INTO v_head FROM events e WHERE e.organization_id = p_organization_id ORDER BY e.position DESC LIMIT 1;
  END IF;
  v_head := coalesce(v_head, repeat('0', 64));
  FOR i IN 1 .. coalesce(array_length(p_types, 1), 0) LOOP
    v_version := (v_versions ->> p_stream_ids[i])::int;
    IF v_version IS NULL THEN
      SELECT coalesce(max(e.stream_version), 0) INTO v_version FROM events e WHERE e.stream_id = p_stream_ids[i];
    END IF;
    v_version := v_version + 1;
    v_versions := v_versions || jsonb_build_object(p_stream_ids[i], v_version);
    v_position := nextval(pg_get_serial_sequence('events', 'position'));
    v_hash := encode(sha256(convert_to(
      p_hash_parts[4 * i - 3] || v_position::text || p_hash_parts[4 * i - 2] || v_head ||
      p_hash_parts[4 * i - 1] || v_version::text || p_hash_parts[4 * i], 'UTF8')), 'hex');
    INSERT INTO events (position, stream_id, stream_version, type, schema_version, data, metadata,
                        organization_id, occurred_at, prev_hash, hash)
    VALUES (v_position, p_stream_ids[i], v_version, p_types[i], p_schema_versions[i], p_data[i],
            p_metadata[i], p_organization_id, p_occurred_at[i], v_head, v_hash);
    event_index := i;
    event_position := v_position;
    event_stream_version := v_version;
    event_prev_hash := v_head;
    event_hash := v_hash;
    RETURN NEXT;
    v_head := v_hash;
  END LOOP;
END;
$$;
