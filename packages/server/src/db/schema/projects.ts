import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

export const projects = pgTable("projects", {
  name: text("name").primaryKey(),
  /** Ordinal of the last run, for display names like `zesty-snowball-7`. */
  runCount: integer("run_count").notNull().default(0),
  createdAt,
});
