/** Members of a layer grouped in the database, by label then id, searched by name and paged. */
import { type SQL, sql } from "drizzle-orm";
import { type Db, selectRows } from "../db/client";
import { labelOf } from "./walk-sql";
import type { WalkedKind } from "./walked-graph";

export async function listGroupMembers(
  db: Db,
  kind: WalkedKind,
  members: SQL,
  page: { q?: string | undefined; limit: number; offset: number },
): Promise<{ total: number; members: { id: string; label: string }[] }> {
  const { join, label } = labelOf(kind, "m.id");
  const labelled = sql`select m.id, ${label} as label from (${members}) m ${join}`;
  const search = page.q ? sql`where strpos(lower(label), lower(${page.q})) > 0` : sql``;
  const rows = await selectRows<{ id: string; label: string; total: number }>(
    db,
    sql`select id, label, count(*) over ()::int as total from (${labelled}) l ${search}
      order by label collate "C", id limit ${page.limit} offset ${page.offset}`,
  );
  let total = Number(rows[0]?.total ?? 0);
  if (rows.length === 0 && page.offset > 0) {
    const [count] = await selectRows<{ total: number }>(
      db,
      sql`select count(*)::int as total from (${labelled}) l ${search}`,
    );
    total = Number(count?.total ?? 0);
  }
  return { total, members: rows.map(({ id, label }) => ({ id, label })) };
}
