/** SQL pieces every module of the walk builds on (walk.ts, walk-small.ts, hub-hops.ts, group-members.ts). */
import { type SQL, sql } from "drizzle-orm";
import type { WalkedKind } from "./walked-graph";

/** A list of ids as one text parameter: any number of ids in one bound value, on both drivers. */
export const idList = (ids: Iterable<string>) => sql`string_to_array(${[...ids].join(",")}, ',')`;

export const asOfCondition = (column: SQL, asOf: Date | undefined) =>
  asOf ? sql`and ${column} <= ${asOf.toISOString()}::timestamptz` : sql``;

/** The join bringing the label of the node `column` names, of `kind`, and the label column. */
export function labelOf(kind: WalkedKind, column: string): { join: SQL; label: SQL } {
  const id = sql.raw(column);
  return kind === "run"
    ? { join: sql`join runs nr on nr.id = ${id}`, label: sql`nr.name` }
    : {
        join: sql`join versions nv on nv.id = ${id} join artifacts na on na.id = nv.artifact_id`,
        label: sql`na.name || ':v' || nv.index`,
      };
}
