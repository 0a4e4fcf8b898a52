import { index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { users } from "./auth";
import { createdAt } from "./columns";
import { projects } from "./projects";

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
