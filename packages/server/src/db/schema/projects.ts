import { bigint, integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

export const projects = pgTable("projects", {
  name: text("name").primaryKey(),
  /** Ordinal of the last run, for display names like `zesty-snowball-7`. */
  runCount: integer("run_count").notNull().default(0),
  /** Retention of versions logged without a `ttl`, in seconds; null keeps them. */
  defaultTtlSeconds: bigint("default_ttl_seconds", { mode: "number" }),
  createdAt,
});
