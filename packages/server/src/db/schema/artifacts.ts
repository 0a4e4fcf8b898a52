import type { ManifestEntry } from "@pedigree/protocol";
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { users } from "./auth";
import { createdAt } from "./columns";
import { projects } from "./projects";
import { runs } from "./runs";

export const artifacts = pgTable(
  "artifacts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    project: text("project")
      .notNull()
      .references(() => projects.name),
    name: text("name").notNull(),
    /** Fixed by the first version: logging the name with another type is a conflict. */
    type: text("type").notNull(),
    description: text("description"),
    /** Number of committed versions, deleted ones included, so the next one is `v{versionCount}` (never reused). */
    versionCount: integer("version_count").notNull().default(0),
    /** N of `latest`: the newest committed version not deleted; null when there is none. */
    latestIndex: integer("latest_index"),
    createdAt,
  },
  (table) => [
    uniqueIndex("artifacts_project_name_idx").on(table.project, table.name),
    index("artifacts_project_type_idx").on(table.project, table.type),
    index("artifacts_name_folded_idx").on(sql`(lower(${table.name}) collate "C")`),
  ],
);

export const versions = pgTable(
  "versions",
  {
    id: text("id").primaryKey(),
    project: text("project")
      .notNull()
      .references(() => projects.name),
    artifactId: bigint("artifact_id", { mode: "number" })
      .notNull()
      .references(() => artifacts.id),
    /** N of `vN`; null while pending. */
    index: integer("index"),
    state: text("state", { enum: ["pending", "committed"] })
      .notNull()
      .default("pending"),
    digest: text("digest").notNull(),
    manifest: jsonb("manifest").$type<ManifestEntry[]>().notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    description: text("description"),
    size: bigint("size", { mode: "number" }).notNull(),
    fileCount: integer("file_count").notNull(),
    generated: boolean("generated").notNull().default(false),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt,
    committedAt: timestamp("committed_at", { withTimezone: true, mode: "date" }),
    /** Retention: when set, the version becomes a tombstone once this time has passed (unless registry-linked). */
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    /**
     * A tombstone: deleted (by `deletedBy`) or expired (`deletedBy` null) at this time. It stays in the lineage
     * graph without files; its content may be logged again as a new `vN`.
     */
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
    deletedBy: text("deleted_by").references(() => users.id),
  },
  (table) => [
    uniqueIndex("versions_artifact_id_digest_live_idx")
      .on(table.artifactId, table.digest)
      .where(sql`${table.deletedAt} is null`),
    uniqueIndex("versions_artifact_id_index_idx").on(table.artifactId, table.index),
    index("versions_project_state_idx").on(table.project, table.state),
    index("versions_expires_at_live_idx")
      .on(table.expiresAt)
      .where(sql`${table.expiresAt} is not null and ${table.deletedAt} is null`),
    index("versions_deleted_at_idx").on(table.deletedAt).where(sql`${table.deletedAt} is not null`),
  ],
);

/**
 * The stored files of each version by path, so one file is found without reading the manifest (a download of
 * N files would otherwise read it N times), and the blob reference index: which versions name a blob (proof of
 * possession, the pending sweep, garbage collection), by `sha256`. Derived from `versions.manifest` by a
 * trigger in the same statement (custom migration `version_files`), so every insert of a version keeps it, and
 * nothing writes it by hand.
 */
export const versionFiles = pgTable(
  "version_files",
  {
    versionId: text("version_id")
      .notNull()
      .references(() => versions.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    sha256: text("sha256").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.versionId, table.path] }),
    index("version_files_sha256_idx").on(table.sha256),
  ],
);

/**
 * Aliases with their history: an alias is held while `removedAt` is null, so `asOf` can tell what it
 * pointed at in the past. `latest` is not stored: it is always the newest committed version.
 */
export const aliases = pgTable(
  "aliases",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    artifactId: bigint("artifact_id", { mode: "number" })
      .notNull()
      .references(() => artifacts.id),
    alias: text("alias").notNull(),
    versionId: text("version_id")
      .notNull()
      .references(() => versions.id),
    assignedAt: timestamp("assigned_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    removedAt: timestamp("removed_at", { withTimezone: true, mode: "date" }),
    assignedBy: text("assigned_by")
      .notNull()
      .references(() => users.id),
  },
  (table) => [
    uniqueIndex("aliases_artifact_id_alias_held_idx")
      .on(table.artifactId, table.alias)
      .where(sql`${table.removedAt} is null`),
    index("aliases_version_id_idx").on(table.versionId),
  ],
);

/**
 * What lineage clustering needs of an edge's two ends, kept beside the edge so a hub's consumers are grouped
 * by kind and type from an index instead of one probe per node. Written by a trigger on insert (custom
 * migration `edge_ends`) from the run and the version, which never change these: nothing writes them by hand.
 */
const edgeEnds = {
  runJobType: text("run_job_type"),
  runProject: text("run_project"),
  versionType: text("version_type"),
  versionGenerated: boolean("version_generated"),
  versionProject: text("version_project"),
};

/** Input edge: the run used the version, asking for it by `requestedRef`. */
export const runInputs = pgTable(
  "run_inputs",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    versionId: text("version_id")
      .notNull()
      .references(() => versions.id),
    requestedRef: text("requested_ref").notNull(),
    ...edgeEnds,
    createdAt,
  },
  (table) => [
    primaryKey({ columns: [table.runId, table.versionId] }),
    index("run_inputs_version_id_run_id_idx").on(table.versionId, table.runId),
    // A version's consumers grouped by job type (and checked for projects a reader cannot see), and a run's
    // inputs by artifact type, from the index alone.
    index("run_inputs_version_id_run_job_type_run_project_run_id_idx").on(
      table.versionId,
      table.runJobType,
      table.runProject,
      table.runId,
    ),
    index("run_inputs_run_id_version_type_version_id_idx").on(
      table.runId,
      table.versionType,
      table.versionGenerated,
      table.versionId,
    ),
  ],
);

/** Output edge: the run logged the version. A version logged again by another run has several producers. */
export const runOutputs = pgTable(
  "run_outputs",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    versionId: text("version_id")
      .notNull()
      .references(() => versions.id),
    ...edgeEnds,
    createdAt,
  },
  (table) => [
    primaryKey({ columns: [table.runId, table.versionId] }),
    index("run_outputs_version_id_run_id_idx").on(table.versionId, table.runId),
    index("run_outputs_version_id_run_job_type_run_id_idx").on(table.versionId, table.runJobType, table.runId),
    index("run_outputs_run_id_version_type_version_id_idx").on(
      table.runId,
      table.versionType,
      table.versionGenerated,
      table.versionId,
    ),
  ],
);

/**
 * Two-hop paths version → run → version (an input of a run to an output of the same run), kept by triggers on
 * `run_inputs` and `run_outputs` (custom migration `lineage_hops`), one row per start, job type of the run in
 * between and end, however many runs of that type join them. A hub's consumers of one job type are grouped in
 * the walk without being fetched; this table lets the next hop count and list what they logged, by type, from
 * an index instead of one probe per consumer. `reachedAt` is the earliest moment the path existed (the later
 * of its two edges, the earliest over the runs), so `asOf` applies to it exactly. Nothing writes it by hand.
 */
export const lineageHops = pgTable(
  "lineage_hops",
  {
    fromVersionId: text("from_version_id").notNull(),
    runJobType: text("run_job_type").notNull(),
    toVersionId: text("to_version_id").notNull(),
    toType: text("to_type").notNull(),
    toGenerated: boolean("to_generated").notNull(),
    toProject: text("to_project").notNull(),
    reachedAt: timestamp("reached_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.fromVersionId, table.runJobType, table.toVersionId] }),
    // Counted by type, and listed by id within a type, from the index alone.
    index("lineage_hops_grouped_idx").on(
      table.fromVersionId,
      table.runJobType,
      table.toType,
      table.toGenerated,
      table.toVersionId,
      table.toProject,
    ),
  ],
);

/**
 * A blob whose bytes are in the store. The row is written only after the file is in place, and removed only
 * before the file is (storage/blob-locks.ts orders the two), so a row always has its bytes.
 */
export const blobs = pgTable("blobs", {
  sha256: text("sha256").primaryKey(),
  size: bigint("size", { mode: "number" }).notNull(),
  createdAt,
});

/**
 * Proof of possession: `userId` sent these bytes (an upload or an inline file, hashed by the server). It lets
 * that user's versions name the blob; a blob nobody proved and no readable version holds must be uploaded.
 */
export const blobUploads = pgTable(
  "blob_uploads",
  {
    sha256: text("sha256")
      .notNull()
      .references(() => blobs.sha256, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    uploadedAt: timestamp("uploaded_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.sha256, table.userId] })],
);
