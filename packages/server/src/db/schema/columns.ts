import { timestamp } from "drizzle-orm/pg-core";

/** Every row says when it was made, in server time with a zone. */
export const createdAt = timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
