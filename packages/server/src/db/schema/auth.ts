import { sql } from "drizzle-orm";
import { boolean, index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

/** Names are unique whatever their case (`Admin` is `admin`), and looked up case-insensitively. */
export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    isAdmin: boolean("is_admin").notNull().default(false),
    createdAt,
  },
  (table) => [uniqueIndex("users_lower_name_idx").on(sql`lower(${table.name})`)],
);

/** Only a sha256 of each key is kept; the key itself is shown once, when it is made. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    createdAt,
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [index("api_keys_user_id_idx").on(table.userId)],
);
