-- Registries made before visibility existed were readable by every signed-in user, and their users rely on
-- that: they stay `organization` (a registry admin can restrict one). New registries are `restricted`.
UPDATE "registries" SET "visibility" = 'organization';
