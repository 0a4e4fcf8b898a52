ALTER TABLE "users" DROP CONSTRAINT "users_name_unique";--> statement-breakpoint
ALTER TABLE "registries" ADD COLUMN "visibility" text DEFAULT 'restricted' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "users_lower_name_idx" ON "users" USING btree (lower("name"));