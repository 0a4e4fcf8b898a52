import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { projects } from "./projects";

export const runs = pgTable(
  "runs",
  {
    id: text("id").primaryKey(),
    project: text("project")
      .notNull()
      .references(() => projects.name),
    name: text("name").notNull(),
    ordinal: integer("ordinal").notNull(),
    jobType: text("job_type").notNull(),
    config: jsonb("config").$type<Record<string, unknown>>().notNull().default({}),
    summary: jsonb("summary").$type<Record<string, unknown>>().notNull().default({}),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    state: text("state", { enum: ["running", "finished", "failed", "crashed", "aborted"] })
      .notNull()
      .default("running"),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** A deleted run stays in the lineage graph with its edges, marked deleted. */
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
    deletedBy: text("deleted_by").references(() => users.id),
  },
  (table) => [
    index("runs_project_started_at_idx").on(table.project, table.startedAt),
    index("runs_project_job_type_idx").on(table.project, table.jobType),
    index("runs_state_heartbeat_at_idx").on(table.state, table.heartbeatAt),
    // Name search (search/names.ts `foldedName`): a prefix is a range over this index.
    index("runs_name_folded_idx").on(sql`(lower(${table.name}) collate "C")`),
  ],
);
