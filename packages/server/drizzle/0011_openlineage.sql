CREATE TABLE "openlineage_datasets" (
	"artifact_id" bigint PRIMARY KEY NOT NULL,
	"project" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "openlineage_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"event_type" text NOT NULL,
	"event_time" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "openlineage_runs" (
	"run_id" text PRIMARY KEY NOT NULL,
	"project" text NOT NULL,
	"openlineage_run_id" text NOT NULL,
	"job_namespace" text NOT NULL,
	"job_name" text NOT NULL,
	"parent_run_id" text,
	"parent_job_namespace" text,
	"parent_job_name" text,
	"run_facets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"job_facets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state_event_time" timestamp with time zone,
	"state_rank" integer DEFAULT 0 NOT NULL,
	"facets_event_time" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "openlineage_versions" (
	"version_id" text PRIMARY KEY NOT NULL,
	"artifact_id" bigint NOT NULL,
	"dataset_version" text,
	"writer_run_id" text,
	"event_time" timestamp with time zone NOT NULL,
	"facets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"facets_event_time" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "openlineage_datasets" ADD CONSTRAINT "openlineage_datasets_artifact_id_artifacts_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."artifacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "openlineage_datasets" ADD CONSTRAINT "openlineage_datasets_project_projects_name_fk" FOREIGN KEY ("project") REFERENCES "public"."projects"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "openlineage_outbox" ADD CONSTRAINT "openlineage_outbox_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "openlineage_runs" ADD CONSTRAINT "openlineage_runs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "openlineage_runs" ADD CONSTRAINT "openlineage_runs_project_projects_name_fk" FOREIGN KEY ("project") REFERENCES "public"."projects"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "openlineage_versions" ADD CONSTRAINT "openlineage_versions_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "openlineage_versions" ADD CONSTRAINT "openlineage_versions_artifact_id_artifacts_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."artifacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "openlineage_versions" ADD CONSTRAINT "openlineage_versions_writer_run_id_runs_id_fk" FOREIGN KEY ("writer_run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "openlineage_datasets_project_namespace_name_idx" ON "openlineage_datasets" USING btree ("project","namespace","name");--> statement-breakpoint
CREATE INDEX "openlineage_outbox_pending_idx" ON "openlineage_outbox" USING btree ("next_attempt_at") WHERE "openlineage_outbox"."delivered_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "openlineage_runs_project_openlineage_run_id_idx" ON "openlineage_runs" USING btree ("project","openlineage_run_id");--> statement-breakpoint
CREATE INDEX "openlineage_runs_project_job_idx" ON "openlineage_runs" USING btree ("project","job_namespace","job_name");--> statement-breakpoint
CREATE INDEX "openlineage_versions_artifact_id_event_time_idx" ON "openlineage_versions" USING btree ("artifact_id","event_time");