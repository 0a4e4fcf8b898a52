/**
 * Name search, one rule for every list and the global search: case-insensitive, `q` anywhere in the name.
 * A prefix match is answered from a btree on `lower(name) collate "C"` (pg_trgm is not in PGlite by default),
 * so the global search stays an index range scan at any size; "contains" is the fallback within a project.
 */
import { type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";

/** The indexed expression: schema indexes and queries must spell it the same way. */
export const foldedName = (column: AnyPgColumn | SQL) => sql`(lower(${column}) collate "C")`;

/** `column` contains `q`, ignoring case. */
export const nameContains = (column: AnyPgColumn | SQL, q: string): SQL =>
  sql`strpos(lower(${column}), lower(${q})) > 0`;

/** `column` starts with `q`, ignoring case: a range over the folded-name index. */
export const nameStartsWith = (column: AnyPgColumn | SQL, q: string): SQL => {
  const folded = q.toLowerCase();
  return sql`${foldedName(column)} >= ${folded} and ${foldedName(column)} < ${`${folded}\u{10ffff}`}`;
};
