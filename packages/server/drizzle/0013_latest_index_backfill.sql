-- Artifacts logged before tombstones existed: `latest` is the newest committed version, v{version_count - 1}.
-- Hand-written (not generated): carry this file over when migrations are regenerated.
UPDATE artifacts SET latest_index = version_count - 1 WHERE version_count > 0;
