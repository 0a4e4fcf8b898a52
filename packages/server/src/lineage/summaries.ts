/** Graph summaries of shown nodes, in one query per kind, with aliases as they stood at `asOf`. */
import type { RunNode, VersionNode } from "@pedigree/protocol";
import { sql } from "drizzle-orm";
import { type Db, selectRows } from "../db/client";
import { idList, type WalkedNode } from "./walk";

/** A node is a tombstone from its deletion on: at `asOf` before it, it is shown live. */
type Deleted = { deletedAt: string | null; deletedBy: string | null; isDeleted: boolean };
type VersionSummaryRow = Omit<
  VersionNode,
  "depth" | "extended" | "kind" | "version" | "deleted" | "deletion" | "openlineage"
> &
  Deleted & { index: number; openlineage: VersionNode["openlineage"] | null };
type RunSummaryRow = Omit<RunNode, "depth" | "extended" | "kind" | "deleted" | "deletion" | "openlineage"> &
  Deleted & { openlineage: RunNode["openlineage"] | null };

const isoTime = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

export async function summarizeNodes(
  db: Db,
  nodes: WalkedNode[],
  asOf: Date | undefined,
): Promise<Map<string, VersionNode | RunNode>> {
  const versionIds = nodes.filter((node) => node.kind === "version").map((node) => node.id);
  const runIds = nodes.filter((node) => node.kind === "run").map((node) => node.id);
  const at = asOf ? sql`${asOf.toISOString()}::timestamptz` : sql`now()`;
  const held = asOf
    ? sql`al.assigned_at <= ${at} and (al.removed_at is null or al.removed_at > ${at})`
    : sql`al.removed_at is null`;
  const committedBy = asOf
    ? sql`and newer.committed_at <= ${at} and (newer.deleted_at is null or newer.deleted_at > ${at})`
    : sql`and newer.deleted_at is null`;

  const [versionRows, runRows] = await Promise.all([
    versionIds.length === 0
      ? []
      : selectRows<VersionSummaryRow & { latest: boolean }>(
          db,
          sql`
          select v.id, a.name as artifact, a.type, v.index, v.digest, v.size::float8 as size, v.generated,
            ${isoTime("v.created_at")} as "createdAt",
            ${isoTime("v.deleted_at")} as "deletedAt", v.deleted_by as "deletedBy",
            coalesce(v.deleted_at <= ${at}, false) as "isDeleted",
            (v.deleted_at is null or v.deleted_at > ${at}) and not exists (select 1 from versions newer where newer.artifact_id = v.artifact_id
              and newer.state = 'committed' and newer.index > v.index ${committedBy}) as latest,
            coalesce((select array_agg(al.alias order by al.alias) from aliases al
              where al.version_id = v.id and ${held}), '{}') as aliases,
            case when od.artifact_id is null then null
              else json_build_object('namespace', od.namespace, 'name', od.name) end as openlineage
          from versions v join artifacts a on a.id = v.artifact_id
            left join openlineage_datasets od on od.artifact_id = v.artifact_id
          where v.id = any(${idList(versionIds)})`,
        ),
    runIds.length === 0
      ? []
      : selectRows<RunSummaryRow>(
          db,
          sql`
          select r.id, r.name, r.job_type as "jobType", r.state,
            ${isoTime("r.started_at")} as "startedAt", ${isoTime("r.finished_at")} as "finishedAt",
            ${isoTime("r.deleted_at")} as "deletedAt", r.deleted_by as "deletedBy",
            coalesce(r.deleted_at <= ${at}, false) as "isDeleted",
            case when orun.run_id is null then null else json_build_object('namespace', orun.job_namespace,
              'name', orun.job_name, 'runId', orun.openlineage_run_id) end as openlineage
          from runs r left join openlineage_runs orun on orun.run_id = r.id where r.id = any(${idList(runIds)})`,
        ),
  ]);
  const depthOf = new Map(nodes.map((node) => [node.id, node]));
  const summaries = new Map<string, VersionNode | RunNode>();
  for (const { index, latest, openlineage, deletedAt, deletedBy, isDeleted, ...row } of versionRows) {
    const node = depthOf.get(row.id) as WalkedNode;
    summaries.set(row.id, {
      ...row,
      ...(openlineage ? { openlineage } : {}),
      ...tombstone({ deletedAt, deletedBy, isDeleted }),
      kind: "version",
      version: `v${index}`,
      aliases: latest ? ["latest", ...row.aliases] : row.aliases,
      depth: node.depth,
      ...(node.extended ? { extended: true } : {}),
    });
  }
  for (const { openlineage, deletedAt, deletedBy, isDeleted, ...row } of runRows) {
    const node = depthOf.get(row.id) as WalkedNode;
    summaries.set(row.id, {
      ...row,
      ...(openlineage ? { openlineage } : {}),
      ...tombstone({ deletedAt, deletedBy, isDeleted }),
      kind: "run",
      depth: node.depth,
      ...(node.extended ? { extended: true } : {}),
    });
  }
  return summaries;
}

function tombstone({ deletedAt, deletedBy, isDeleted }: Deleted): Pick<VersionNode, "deleted" | "deletion"> {
  if (!isDeleted || deletedAt === null) return {};
  return { deleted: true, deletion: { reason: deletedBy ? "deleted" : "expired", by: deletedBy, at: deletedAt } };
}
