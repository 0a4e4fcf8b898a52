import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { projects } from "./projects";

/**
 * What removed data, and who: deletions of versions, artifacts and runs, expiries, garbage collection.
 * Written in the transaction that made the change, so a change without its event never commits.
 * `actorId` is null for the server's own sweeps.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    project: text("project").references(() => projects.name),
    action: text("action", {
      enum: ["version_deleted", "version_expired", "artifact_deleted", "run_deleted", "blobs_collected"],
    }).notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name"),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
    /** What was removed: a version id, an artifact name, a run id; null for garbage collection. */
    target: text("target"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (table) => [index("audit_events_project_at_id_idx").on(table.project, table.at, table.id)],
);
