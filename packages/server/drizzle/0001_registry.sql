CREATE TABLE "collection_aliases" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" bigint NOT NULL,
	"alias" text NOT NULL,
	"membership_id" bigint NOT NULL,
	"assigned_at" timestamp with time zone NOT NULL,
	"assigned_by" text NOT NULL,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "collection_memberships" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" bigint NOT NULL,
	"index" integer NOT NULL,
	"version_id" text NOT NULL,
	"linked_at" timestamp with time zone NOT NULL,
	"linked_by" text NOT NULL,
	"unlinked_at" timestamp with time zone,
	"unlinked_by" text
);
--> statement-breakpoint
CREATE TABLE "collections" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"registry_id" bigint NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"version_count" integer DEFAULT 0 NOT NULL,
	"event_count" integer DEFAULT 0 NOT NULL,
	"head_hash" text DEFAULT '0000000000000000000000000000000000000000000000000000000000000000' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "history_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" bigint NOT NULL,
	"seq" integer NOT NULL,
	"action" text NOT NULL,
	"actor_id" text NOT NULL,
	"actor_name" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"collection_version" integer,
	"source_version_id" text,
	"source_version" text,
	"source_project" text,
	"alias" text,
	"details" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"accepted_types" text[],
	"protected_aliases" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registries_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "collection_aliases" ADD CONSTRAINT "collection_aliases_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_aliases" ADD CONSTRAINT "collection_aliases_membership_id_collection_memberships_id_fk" FOREIGN KEY ("membership_id") REFERENCES "public"."collection_memberships"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_aliases" ADD CONSTRAINT "collection_aliases_assigned_by_users_id_fk" FOREIGN KEY ("assigned_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_memberships" ADD CONSTRAINT "collection_memberships_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_memberships" ADD CONSTRAINT "collection_memberships_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_memberships" ADD CONSTRAINT "collection_memberships_linked_by_users_id_fk" FOREIGN KEY ("linked_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_memberships" ADD CONSTRAINT "collection_memberships_unlinked_by_users_id_fk" FOREIGN KEY ("unlinked_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collections" ADD CONSTRAINT "collections_registry_id_registries_id_fk" FOREIGN KEY ("registry_id") REFERENCES "public"."registries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collections" ADD CONSTRAINT "collections_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "history_events" ADD CONSTRAINT "history_events_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registries" ADD CONSTRAINT "registries_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "collection_aliases_collection_id_alias_held_idx" ON "collection_aliases" USING btree ("collection_id","alias") WHERE "collection_aliases"."removed_at" is null;--> statement-breakpoint
CREATE INDEX "collection_aliases_membership_id_idx" ON "collection_aliases" USING btree ("membership_id");--> statement-breakpoint
CREATE UNIQUE INDEX "collection_memberships_collection_id_index_idx" ON "collection_memberships" USING btree ("collection_id","index");--> statement-breakpoint
CREATE UNIQUE INDEX "collection_memberships_collection_id_version_id_linked_idx" ON "collection_memberships" USING btree ("collection_id","version_id") WHERE "collection_memberships"."unlinked_at" is null;--> statement-breakpoint
CREATE INDEX "collection_memberships_version_id_idx" ON "collection_memberships" USING btree ("version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "collections_registry_id_name_idx" ON "collections" USING btree ("registry_id","name");--> statement-breakpoint
CREATE INDEX "collections_registry_id_type_idx" ON "collections" USING btree ("registry_id","type");--> statement-breakpoint
CREATE INDEX "collections_tags_idx" ON "collections" USING gin ("tags");--> statement-breakpoint
CREATE UNIQUE INDEX "history_events_collection_id_seq_idx" ON "history_events" USING btree ("collection_id","seq");--> statement-breakpoint
CREATE INDEX "history_events_collection_id_at_id_idx" ON "history_events" USING btree ("collection_id","at","id");--> statement-breakpoint
CREATE INDEX "history_events_collection_id_action_at_id_idx" ON "history_events" USING btree ("collection_id","action","at","id");--> statement-breakpoint
CREATE INDEX "history_events_collection_id_collection_version_idx" ON "history_events" USING btree ("collection_id","collection_version");