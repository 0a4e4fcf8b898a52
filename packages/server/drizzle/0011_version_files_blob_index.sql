ALTER TABLE "version_blobs" DISABLE ROW LEVEL SECURITY;--> statement-breakpoint
DROP TABLE "version_blobs" CASCADE;--> statement-breakpoint
CREATE INDEX "version_files_sha256_idx" ON "version_files" USING btree ("sha256");