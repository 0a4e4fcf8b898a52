-- Every version already logged references the stored files of its manifest (one row per distinct sha256).
-- No upload proof is backfilled: a pending version made before this migration uploads its files again.
INSERT INTO "version_blobs" ("version_id", "sha256", "size")
SELECT DISTINCT ON (v."id", e->>'sha256') v."id", e->>'sha256', (e->>'size')::bigint
FROM "versions" v CROSS JOIN LATERAL jsonb_array_elements(v."manifest") AS e
WHERE e ? 'sha256'
ORDER BY v."id", e->>'sha256'
ON CONFLICT DO NOTHING;
