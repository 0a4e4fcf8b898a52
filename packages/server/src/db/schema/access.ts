import { bigint, index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { createdAt } from "./columns";
import { projects } from "./projects";
import { registries } from "./registry";

/**
 * Who may do what in a project. Server admins (users.is_admin) need no row; everyone else sees a project
 * only through one. The user whose write creates a project becomes its first admin.
 */
export const projectMembers = pgTable(
  "project_members",
  {
    project: text("project")
      .notNull()
      .references(() => projects.name),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    role: text("role", { enum: ["viewer", "member", "admin"] }).notNull(),
    createdAt,
  },
  (table) => [
    primaryKey({ columns: [table.project, table.userId] }),
    index("project_members_user_id_idx").on(table.userId),
  ],
);

/**
 * Who may change what in a registry. Reading a registry needs no row (registries are organisation-wide
 * catalogues); a member links, unlinks and moves aliases; an admin also moves protected aliases and
 * manages members. Server admins need no row.
 */
export const registryMembers = pgTable(
  "registry_members",
  {
    registryId: bigint("registry_id", { mode: "number" })
      .notNull()
      .references(() => registries.id),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    role: text("role", { enum: ["viewer", "member", "admin"] }).notNull(),
    createdAt,
  },
  (table) => [
    primaryKey({ columns: [table.registryId, table.userId] }),
    index("registry_members_user_id_idx").on(table.userId),
  ],
);
