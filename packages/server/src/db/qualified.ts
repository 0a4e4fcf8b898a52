import { type Column, getTableName, type SQL, sql } from "drizzle-orm";

/**
 * `"table"."column"` (or `"alias"."column"`) of a drizzle column, whatever query it is placed in: drizzle
 * renders the columns of a one-table select unqualified, which a subquery over another table would bind to
 * its own table. Names still come from the schema, so a renamed column fails to compile.
 */
export function qualified(column: Column, tableAlias?: string): SQL {
  return sql`${sql.identifier(tableAlias ?? getTableName(column.table))}.${sql.identifier(column.name)}`;
}
