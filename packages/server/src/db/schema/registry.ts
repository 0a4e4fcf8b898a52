import { sql } from "drizzle-orm";
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { versions } from "./artifacts";
import { users } from "./auth";
import { createdAt } from "./columns";

/** The hash an empty chain starts from. */
export const GENESIS_HASH = "0".repeat(64);

export const registries = pgTable("registries", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  name: text("name").notNull().unique(),
  description: text("description").notNull().default(""),
  /** Null: any artifact type may be linked. */
  acceptedTypes: text("accepted_types").array(),
  protectedAliases: text("protected_aliases").array().notNull().default(sql`'{}'::text[]`),
  /** `restricted`: only its members (and server admins) read it; `organization`: every signed-in user does. */
  visibility: text("visibility", { enum: ["restricted", "organization"] })
    .notNull()
    .default("restricted"),
  createdBy: text("created_by")
    .notNull()
    .references(() => users.id),
  createdAt,
});

/**
 * A named entry of a registry. Its row is the lock behind collection numbering, alias moves and the
 * history chain: every change locks it first. `eventCount`/`headHash` mirror the chain's end so that
 * verification also notices events removed from the end.
 */
export const collections = pgTable(
  "collections",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    registryId: bigint("registry_id", { mode: "number" })
      .notNull()
      .references(() => registries.id),
    name: text("name").notNull(),
    type: text("type").notNull(),
    description: text("description").notNull().default(""),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    /** Versions ever linked, so the next link is `v{versionCount}`. */
    versionCount: integer("version_count").notNull().default(0),
    eventCount: integer("event_count").notNull().default(0),
    headHash: text("head_hash").notNull().default(GENESIS_HASH),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt,
  },
  (table) => [
    uniqueIndex("collections_registry_id_name_idx").on(table.registryId, table.name),
    index("collections_registry_id_type_idx").on(table.registryId, table.type),
    index("collections_tags_idx").using("gin", table.tags),
    index("collections_name_folded_idx").on(sql`(lower(${table.name}) collate "C")`),
  ],
);

/**
 * A version linked into a collection as the collection's `v{index}`. Unlinking keeps the row (with
 * `unlinkedAt`), so `asOf` and the history can still tell what `vN` was.
 */
export const collectionMemberships = pgTable(
  "collection_memberships",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    index: integer("index").notNull(),
    versionId: text("version_id")
      .notNull()
      .references(() => versions.id),
    linkedAt: timestamp("linked_at", { withTimezone: true, mode: "date" }).notNull(),
    linkedBy: text("linked_by")
      .notNull()
      .references(() => users.id),
    unlinkedAt: timestamp("unlinked_at", { withTimezone: true, mode: "date" }),
    unlinkedBy: text("unlinked_by").references(() => users.id),
  },
  (table) => [
    uniqueIndex("collection_memberships_collection_id_index_idx").on(table.collectionId, table.index),
    uniqueIndex("collection_memberships_collection_id_version_id_linked_idx")
      .on(table.collectionId, table.versionId)
      .where(sql`${table.unlinkedAt} is null`),
    index("collection_memberships_version_id_idx").on(table.versionId),
  ],
);

/** Collection aliases with their history, held while `removedAt` is null; `latest` is derived, never stored. */
export const collectionAliases = pgTable(
  "collection_aliases",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    alias: text("alias").notNull(),
    membershipId: bigint("membership_id", { mode: "number" })
      .notNull()
      .references(() => collectionMemberships.id),
    assignedAt: timestamp("assigned_at", { withTimezone: true, mode: "date" }).notNull(),
    assignedBy: text("assigned_by")
      .notNull()
      .references(() => users.id),
    removedAt: timestamp("removed_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    uniqueIndex("collection_aliases_collection_id_alias_held_idx")
      .on(table.collectionId, table.alias)
      .where(sql`${table.removedAt} is null`),
    index("collection_aliases_membership_id_idx").on(table.membershipId),
  ],
);

/**
 * The action history: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and hash-chained per
 * collection: `hash` = sha256(`prevHash` ‖ canonical JSON of the event), `seq` = 1, 2, … per collection.
 */
export const historyEvents = pgTable(
  "history_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    seq: integer("seq").notNull(),
    action: text("action").notNull(),
    actorId: text("actor_id").notNull(),
    actorName: text("actor_name").notNull(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
    /** N of the collection's `vN`. */
    collectionVersion: integer("collection_version"),
    sourceVersionId: text("source_version_id"),
    /** `artifact:vN`, as it was named when the event happened. */
    sourceVersion: text("source_version"),
    sourceProject: text("source_project"),
    alias: text("alias"),
    details: jsonb("details").$type<Record<string, unknown>>(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (table) => [
    uniqueIndex("history_events_collection_id_seq_idx").on(table.collectionId, table.seq),
    // Scanned backwards for "newest first": (at desc, id desc) in plain ORDER BY terms.
    index("history_events_collection_id_at_id_idx").on(table.collectionId, table.at, table.id),
    index("history_events_collection_id_action_at_id_idx").on(table.collectionId, table.action, table.at, table.id),
    index("history_events_collection_id_collection_version_idx").on(table.collectionId, table.collectionVersion),
  ],
);
