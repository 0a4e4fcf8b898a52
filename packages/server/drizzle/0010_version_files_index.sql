-- version_files is derived from versions.manifest: one row per stored file, written by the insert of the
-- version itself (set-based, one statement per inserted batch of versions), so no writer can forget it.
-- Hand-written (not generated): carry this file over when migrations are regenerated.
CREATE OR REPLACE FUNCTION version_files_index() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO version_files (version_id, path, sha256, size)
  SELECT inserted.id, entry->>'path', entry->>'sha256', (entry->>'size')::bigint
  FROM inserted CROSS JOIN LATERAL jsonb_array_elements(inserted.manifest) AS entry
  WHERE entry ? 'sha256';
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER versions_index_files
  AFTER INSERT ON versions
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION version_files_index();
--> statement-breakpoint
-- Versions logged before this migration.
INSERT INTO version_files (version_id, path, sha256, size)
SELECT versions.id, entry->>'path', entry->>'sha256', (entry->>'size')::bigint
FROM versions CROSS JOIN LATERAL jsonb_array_elements(versions.manifest) AS entry
WHERE entry ? 'sha256';
