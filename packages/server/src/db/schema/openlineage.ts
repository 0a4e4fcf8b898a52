import { sql } from "drizzle-orm";
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { artifacts, versions } from "./artifacts";
import { createdAt } from "./columns";
import { projects } from "./projects";
import { runs } from "./runs";

/**
 * A dataset seen in OpenLineage events: its identity kept exactly (namespace and name hold `/`, `:`, dots),
 * beside the artifact it is in Pedigree (whose name is derived from it, see openlineage/identity.ts).
 */
export const openlineageDatasets = pgTable(
  "openlineage_datasets",
  {
    artifactId: bigint("artifact_id", { mode: "number" })
      .primaryKey()
      .references(() => artifacts.id),
    project: text("project")
      .notNull()
      .references(() => projects.name),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    createdAt,
  },
  (table) => [
    uniqueIndex("openlineage_datasets_project_namespace_name_idx").on(table.project, table.namespace, table.name),
  ],
);

/**
 * A version of an OpenLineage dataset: named by the `datasetVersion` facet, or made by the run that wrote it.
 * `eventTime` is when it was written (by the producer's clock): a reader uses the newest as of its event.
 */
export const openlineageVersions = pgTable(
  "openlineage_versions",
  {
    versionId: text("version_id")
      .primaryKey()
      .references(() => versions.id),
    artifactId: bigint("artifact_id", { mode: "number" })
      .notNull()
      .references(() => artifacts.id),
    datasetVersion: text("dataset_version"),
    /** The run that wrote it, when no `datasetVersion` named it. */
    writerRunId: text("writer_run_id").references(() => runs.id),
    eventTime: timestamp("event_time", { withTimezone: true, mode: "date" }).notNull(),
    /** Dataset facets, merged by name over the events that carried them (the newest event's facet wins). */
    facets: jsonb("facets").$type<Record<string, unknown>>().notNull().default({}),
    facetsEventTime: timestamp("facets_event_time", { withTimezone: true, mode: "date" }).notNull(),
  },
  (table) => [index("openlineage_versions_artifact_id_event_time_idx").on(table.artifactId, table.eventTime)],
);

/**
 * A Pedigree run made from OpenLineage run events: the OpenLineage runId, the job's identity, the parent run
 * and the facets. `stateEventTime`/`stateRank` order the events that set the state, so events arriving out of
 * order end in the same state (see openlineage/run-state.ts).
 */
export const openlineageRuns = pgTable(
  "openlineage_runs",
  {
    runId: text("run_id")
      .primaryKey()
      .references(() => runs.id),
    project: text("project")
      .notNull()
      .references(() => projects.name),
    openlineageRunId: text("openlineage_run_id").notNull(),
    jobNamespace: text("job_namespace").notNull(),
    jobName: text("job_name").notNull(),
    parentRunId: text("parent_run_id"),
    parentJobNamespace: text("parent_job_namespace"),
    parentJobName: text("parent_job_name"),
    runFacets: jsonb("run_facets").$type<Record<string, unknown>>().notNull().default({}),
    jobFacets: jsonb("job_facets").$type<Record<string, unknown>>().notNull().default({}),
    /** Of the event that set `runs.state`; null while only OTHER events came. */
    stateEventTime: timestamp("state_event_time", { withTimezone: true, mode: "date" }),
    stateRank: integer("state_rank").notNull().default(0),
    facetsEventTime: timestamp("facets_event_time", { withTimezone: true, mode: "date" }).notNull(),
  },
  (table) => [
    uniqueIndex("openlineage_runs_project_openlineage_run_id_idx").on(table.project, table.openlineageRunId),
    index("openlineage_runs_project_job_idx").on(table.project, table.jobNamespace, table.jobName),
  ],
);

/**
 * Run events waiting for the configured OpenLineage consumer: written in the transaction of the run change,
 * delivered at least once by openlineage/outbox.ts. A claimed row is leased until `nextAttemptAt`.
 */
export const openlineageOutbox = pgTable(
  "openlineage_outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    eventType: text("event_type", { enum: ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL"] }).notNull(),
    eventTime: timestamp("event_time", { withTimezone: true, mode: "date" }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
    lastError: text("last_error"),
    createdAt,
  },
  (table) => [index("openlineage_outbox_pending_idx").on(table.nextAttemptAt).where(sql`${table.deliveredAt} is null`)],
);
