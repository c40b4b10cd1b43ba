-- Group commit (server/src/eventstore/groupCommit.ts): many queued events of one
-- organization, each on its own stream without an expected version (usage streams), with
-- its own metadata and time, appended under ONE acquisition of the organization's chain
-- lock, in one statement, in the order given. Positions increase in array order, each
-- event's previous hash is the one before it, and each stream's version is its last one
-- plus one (streams repeated in a batch count up).
--
-- Each event's data and metadata arrive once, as the application's RFC 8785 canonical JSON
-- text (stored as jsonb, and hashed as sent); p_hash_parts holds, per event, the three
-- short pieces of the hashed text that surround the values only known here: the text is
--   '{"data":' || data || ',"metadata":' || metadata || part1 || position || '","prevHash":"'
--   || prev_hash || part2 || stream_version || part3
-- exactly what eventstore/hashChain.ts eventHashParts describes (the application
-- recomputes each hash and refuses a mismatch).
CREATE FUNCTION coffer_append_batch(
  p_chain_key text,
  p_organization_id uuid,
  p_stream_ids text[],
  p_types text[],
  p_schema_versions int[],
  p_data text[],
  p_metadata text[],
  p_occurred_at timestamptz[],
  p_hash_parts text[]
) RETURNS TABLE (event_index int, event_position bigint, event_stream_version int, event_prev_hash text, event_hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_count int := coalesce(array_length(p_types, 1), 0);
  v_seen jsonb := '{}'::jsonb;
  v_version int;
  v_head text;
  v_positions bigint[];
  v_versions int[] := '{}';
  v_prev text[] := '{}';
  v_hashes text[] := '{}';
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_chain_key, 0));
  IF p_organization_id IS NULL THEN
    SELECT e.hash INTO v_head FROM events e WHERE e.organization_id IS NULL ORDER BY e.position DESC LIMIT 1;
  ELSE
    SELECT e.hash INTO v_head FROM events e WHERE e.organization_id = p_organization_id ORDER BY e.position DESC LIMIT 1;
  END IF;
  v_head := coalesce(v_head, repeat('0', 64));
  -- Positions taken under the lock, increasing in the batch's order.
  SELECT coalesce(array_agg(p ORDER BY p), '{}') INTO v_positions
  FROM (SELECT nextval(pg_get_serial_sequence('events', 'position')) AS p FROM generate_series(1, v_count)) s;
  -- The chain is sequential (each hash covers the one before); the rows go in one INSERT.
  FOR i IN 1 .. v_count LOOP
    v_version := (v_seen ->> p_stream_ids[i])::int;
    IF v_version IS NULL THEN
      SELECT coalesce(max(e.stream_version), 0) INTO v_version FROM events e WHERE e.stream_id = p_stream_ids[i];
    END IF;
    v_version := v_version + 1;
    v_seen := v_seen || jsonb_build_object(p_stream_ids[i], v_version);
    v_versions[i] := v_version;
    v_prev[i] := v_head;
    v_head := encode(sha256(convert_to(
      '{"data":' || p_data[i] || ',"metadata":' || p_metadata[i] || p_hash_parts[3 * i - 2] ||
      v_positions[i]::text || '","prevHash":"' || v_head || p_hash_parts[3 * i - 1] ||
      v_version::text || p_hash_parts[3 * i], 'UTF8')), 'hex');
    v_hashes[i] := v_head;
  END LOOP;
  INSERT INTO events (position, stream_id, stream_version, type, schema_version, data, metadata,
                      organization_id, occurred_at, prev_hash, hash)
  SELECT u.position, u.stream_id, u.stream_version, u.type, u.schema_version, u.data::jsonb, u.metadata::jsonb,
         p_organization_id, u.occurred_at, u.prev_hash, u.hash
  FROM unnest(v_positions, p_stream_ids, v_versions, p_types, p_schema_versions, p_data, p_metadata,
              p_occurred_at, v_prev, v_hashes)
    AS u(position, stream_id, stream_version, type, schema_version, data, metadata, occurred_at, prev_hash, hash);
  RETURN QUERY
    SELECT g, v_positions[g], v_versions[g], v_prev[g], v_hashes[g] FROM generate_series(1, v_count) g;
END;
$$;
