CREATE INDEX "artifacts_name_folded_idx" ON "artifacts" USING btree ((lower("name") collate "C"));--> statement-breakpoint
CREATE INDEX "collections_name_folded_idx" ON "collections" USING btree ((lower("name") collate "C"));--> statement-breakpoint
CREATE INDEX "runs_name_folded_idx" ON "runs" USING btree ((lower("name") collate "C"));