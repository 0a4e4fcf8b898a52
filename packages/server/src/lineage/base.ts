/** The base node of a lineage query: a run id (tried first when it looks like one), a version id or a ref. */
import { RunId, VersionId } from "@pedigree/protocol";
import { sql } from "drizzle-orm";
import { resolveRef } from "../artifacts/refs";
import { type Db, selectRows } from "../db/client";
import type { WalkedNode } from "./walk";

export async function resolveBaseNode(
  db: Db,
  project: string,
  node: string,
  options: { reader: string; asOf?: Date | undefined; field: string },
): Promise<WalkedNode> {
  if (RunId.safeParse(node).success || VersionId.safeParse(node).success) {
    const found = await selectNodeById(db, project, node, options.asOf);
    if (found) return found;
  }
  const { version, artifact } = await resolveRef(db, project, node, { ...options, tombstones: "allow" });
  return {
    id: version.id,
    kind: "version",
    depth: 0,
    type: artifact.type,
    label: `${artifact.name}:v${version.index}`,
    generated: version.generated,
  };
}

/** A run, or else a committed version, with this id that existed at `asOf`: one prepared query, the hot path. */
async function selectNodeById(db: Db, project: string, id: string, asOf: Date | undefined) {
  const existed = (column: string) =>
    asOf ? sql`and ${sql.raw(column)} <= ${asOf.toISOString()}::timestamptz` : sql``;
  const [row] = await selectRows<Omit<WalkedNode, "depth">>(
    db,
    sql`
    select 'run' as kind, r.id, r.job_type as type, r.name as label, false as generated
    from runs r where r.id = ${id} and r.project = ${project} ${existed("r.started_at")}
    union all
    select 'version', v.id, a.type, a.name || ':v' || v.index, v.generated
    from versions v join artifacts a on a.id = v.artifact_id
    where v.id = ${id} and v.project = ${project} and v.state = 'committed' ${existed("v.committed_at")}
    order by kind limit 1`,
  );
  return row ? { ...row, depth: 0 } : undefined;
}
