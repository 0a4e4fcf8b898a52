CREATE TABLE "lineage_hops" (
	"from_version_id" text NOT NULL,
	"run_job_type" text NOT NULL,
	"to_version_id" text NOT NULL,
	"to_type" text NOT NULL,
	"to_generated" boolean NOT NULL,
	"reached_at" timestamp with time zone NOT NULL,
	CONSTRAINT "lineage_hops_from_version_id_run_job_type_to_version_id_pk" PRIMARY KEY("from_version_id","run_job_type","to_version_id")
);
--> statement-breakpoint
CREATE INDEX "lineage_hops_grouped_idx" ON "lineage_hops" USING btree ("from_version_id","run_job_type","to_type","to_generated","to_version_id");