-- User names become unique whatever their case and may not look like user ids (`u_…`). Existing names that
-- break either rule are renamed (users sign in by key, not by name; history events keep the name they had):
-- of names equal but for case, the oldest user keeps it and the others get their id appended.
UPDATE "users" SET "name" = "users"."name" || '-' || "users"."id"
FROM (SELECT "id", row_number() OVER (PARTITION BY lower("name") ORDER BY "created_at", "id") AS "rank" FROM "users") AS "ranked"
WHERE "ranked"."id" = "users"."id" AND "ranked"."rank" > 1;--> statement-breakpoint
UPDATE "users" SET "name" = 'user-' || substr("name", 3) || '-' || "id" WHERE lower("name") LIKE 'u\_%';
