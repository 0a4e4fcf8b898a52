CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project" text,
	"action" text NOT NULL,
	"actor_id" text,
	"actor_name" text,
	"at" timestamp with time zone NOT NULL,
	"target" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "version_blobs" DISABLE ROW LEVEL SECURITY;--> statement-breakpoint
DROP TABLE "version_blobs" CASCADE;--> statement-breakpoint
DROP INDEX "versions_artifact_id_digest_idx";--> statement-breakpoint
ALTER TABLE "artifacts" ADD COLUMN "latest_index" integer;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "deleted_by" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "default_ttl_seconds" bigint;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "deleted_by" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_project_projects_name_fk" FOREIGN KEY ("project") REFERENCES "public"."projects"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_project_at_id_idx" ON "audit_events" USING btree ("project","at","id");--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_deleted_by_users_id_fk" FOREIGN KEY ("deleted_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_deleted_by_users_id_fk" FOREIGN KEY ("deleted_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "version_files_sha256_idx" ON "version_files" USING btree ("sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "versions_artifact_id_digest_live_idx" ON "versions" USING btree ("artifact_id","digest") WHERE "versions"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "versions_expires_at_live_idx" ON "versions" USING btree ("expires_at") WHERE "versions"."expires_at" is not null and "versions"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "versions_deleted_at_idx" ON "versions" USING btree ("deleted_at") WHERE "versions"."deleted_at" is not null;