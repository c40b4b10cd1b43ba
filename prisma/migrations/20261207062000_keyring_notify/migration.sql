-- Every change of a transit keyring (created, rotated, minimum raised, deleted) is
-- announced on the channel coffer_keyring with the keyring's name, in the changing
-- transaction (delivered when it commits), whoever made it: processes that cache
-- keyrings (transit/PrismaKeyringStore.ts) drop their copy on it.
CREATE FUNCTION coffer_keyring_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('coffer_keyring', coalesce(NEW.name, OLD.name));
  RETURN NULL;
END;
$$;
CREATE TRIGGER coffer_keyring_changed AFTER INSERT OR UPDATE OR DELETE ON transit_keyrings
  FOR EACH ROW EXECUTE FUNCTION coffer_keyring_changed();
