ALTER TABLE "run_inputs" ADD COLUMN "run_job_type" text;--> statement-breakpoint
ALTER TABLE "run_inputs" ADD COLUMN "version_type" text;--> statement-breakpoint
ALTER TABLE "run_inputs" ADD COLUMN "version_generated" boolean;--> statement-breakpoint
ALTER TABLE "run_outputs" ADD COLUMN "run_job_type" text;--> statement-breakpoint
ALTER TABLE "run_outputs" ADD COLUMN "version_type" text;--> statement-breakpoint
ALTER TABLE "run_outputs" ADD COLUMN "version_generated" boolean;--> statement-breakpoint
CREATE INDEX "artifacts_name_folded_idx" ON "artifacts" USING btree ((lower("name") collate "C"));--> statement-breakpoint
CREATE INDEX "run_inputs_version_id_run_job_type_run_id_idx" ON "run_inputs" USING btree ("version_id","run_job_type","run_id");--> statement-breakpoint
CREATE INDEX "run_inputs_run_id_version_type_version_id_idx" ON "run_inputs" USING btree ("run_id","version_type","version_generated","version_id");--> statement-breakpoint
CREATE INDEX "run_outputs_version_id_run_job_type_run_id_idx" ON "run_outputs" USING btree ("version_id","run_job_type","run_id");--> statement-breakpoint
CREATE INDEX "run_outputs_run_id_version_type_version_id_idx" ON "run_outputs" USING btree ("run_id","version_type","version_generated","version_id");--> statement-breakpoint
CREATE INDEX "collections_name_folded_idx" ON "collections" USING btree ((lower("name") collate "C"));--> statement-breakpoint
CREATE INDEX "runs_name_folded_idx" ON "runs" USING btree ((lower("name") collate "C"));