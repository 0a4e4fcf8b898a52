CREATE TABLE "lineage_hops" (
	"from_version_id" text NOT NULL,
	"run_job_type" text NOT NULL,
	"to_version_id" text NOT NULL,
	"to_type" text NOT NULL,
	"to_generated" boolean NOT NULL,
	"to_project" text NOT NULL,
	"reached_at" timestamp with time zone NOT NULL,
	CONSTRAINT "lineage_hops_from_version_id_run_job_type_to_version_id_pk" PRIMARY KEY("from_version_id","run_job_type","to_version_id")
);
--> statement-breakpoint
DROP INDEX "run_inputs_version_id_run_job_type_run_id_idx";--> statement-breakpoint
ALTER TABLE "run_inputs" ADD COLUMN "run_project" text;--> statement-breakpoint
ALTER TABLE "run_inputs" ADD COLUMN "version_project" text;--> statement-breakpoint
ALTER TABLE "run_outputs" ADD COLUMN "run_project" text;--> statement-breakpoint
ALTER TABLE "run_outputs" ADD COLUMN "version_project" text;--> statement-breakpoint
CREATE INDEX "lineage_hops_grouped_idx" ON "lineage_hops" USING btree ("from_version_id","run_job_type","to_type","to_generated","to_version_id","to_project");--> statement-breakpoint
CREATE INDEX "run_inputs_version_id_run_job_type_run_project_run_id_idx" ON "run_inputs" USING btree ("version_id","run_job_type","run_project","run_id");