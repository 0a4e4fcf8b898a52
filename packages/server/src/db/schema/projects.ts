import { bigint, integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

export const projects = pgTable("projects", {
  name: text("name").primaryKey(),
  /**
   * The last run ordinal handed out or reserved (the N of display names like `zesty-snowball-7`): servers
   * reserve blocks of them (runs/ordinals.ts), so it runs ahead of the runs made. Not a count of runs.
   */
  runCount: integer("run_count").notNull().default(0),
  /** Retention of versions logged without a `ttl`, in seconds; null keeps them. */
  defaultTtlSeconds: bigint("default_ttl_seconds", { mode: "number" }),
  createdAt,
});
