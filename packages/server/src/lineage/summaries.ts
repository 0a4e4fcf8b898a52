/** Graph summaries of shown nodes, in one query per kind, with aliases as they stood at `asOf`. */
import type { RunNode, VersionNode } from "@pedigree/protocol";
import { type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Db, selectRows } from "../db/client";
import { aliases, artifacts, openlineageDatasets, openlineageRuns, runs, versions } from "../db/schema";
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

const isoTime = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const v = alias(versions, "v");
const newer = alias(versions, "newer");
const a = alias(artifacts, "a");
const al = alias(aliases, "al");
const r = alias(runs, "r");
const od = alias(openlineageDatasets, "od");
const orun = alias(openlineageRuns, "orun");

export async function summarizeNodes(
  db: Db,
  nodes: WalkedNode[],
  asOf: Date | undefined,
): Promise<Map<string, VersionNode | RunNode>> {
  const versionIds = nodes.filter((node) => node.kind === "version").map((node) => node.id);
  const runIds = nodes.filter((node) => node.kind === "run").map((node) => node.id);
  const at = asOf ? sql`${asOf.toISOString()}::timestamptz` : sql`now()`;
  const held = asOf
    ? sql`${al.assignedAt} <= ${at} and (${al.removedAt} is null or ${al.removedAt} > ${at})`
    : sql`${al.removedAt} is null`;
  const committedBy = asOf
    ? sql`and ${newer.committedAt} <= ${at} and (${newer.deletedAt} is null or ${newer.deletedAt} > ${at})`
    : sql`and ${newer.deletedAt} is null`;
  const [versionRows, runRows] = await Promise.all([
    versionIds.length === 0
      ? []
      : selectRows<VersionSummaryRow & { latest: boolean }>(
          db,
          sql`
          select ${v.id}, ${a.name} as artifact, ${a.type}, ${v.index}, ${v.digest}, ${v.size}::float8 as size,
            ${v.generated}, ${isoTime(sql`${v.createdAt}`)} as "createdAt",
            ${isoTime(sql`${v.deletedAt}`)} as "deletedAt", ${v.deletedBy} as "deletedBy",
            coalesce(${v.deletedAt} <= ${at}, false) as "isDeleted",
            (${v.deletedAt} is null or ${v.deletedAt} > ${at}) and not exists (select 1 from ${versions} ${newer}
              where ${newer.artifactId} = ${v.artifactId}
              and ${newer.state} = 'committed' and ${newer.index} > ${v.index} ${committedBy}) as latest,
            coalesce((select array_agg(${al.alias} order by ${al.alias}) from ${aliases} ${al}
              where ${al.versionId} = ${v.id} and ${held}), '{}') as aliases,
            case when ${od.artifactId} is null then null
              else json_build_object('namespace', ${od.namespace}, 'name', ${od.name}) end as openlineage
          from ${versions} ${v} join ${artifacts} ${a} on ${a.id} = ${v.artifactId}
            left join ${openlineageDatasets} ${od} on ${od.artifactId} = ${v.artifactId}
          where ${v.id} = any(${idList(versionIds)})`,
        ),
    runIds.length === 0
      ? []
      : selectRows<RunSummaryRow>(
          db,
          sql`
          select ${r.id}, ${r.name}, ${r.jobType} as "jobType", ${r.state},
            ${isoTime(sql`${r.startedAt}`)} as "startedAt", ${isoTime(sql`${r.finishedAt}`)} as "finishedAt",
            ${isoTime(sql`${r.deletedAt}`)} as "deletedAt", ${r.deletedBy} as "deletedBy",
            coalesce(${r.deletedAt} <= ${at}, false) as "isDeleted",
            case when ${orun.runId} is null then null else json_build_object('namespace', ${orun.jobNamespace},
              'name', ${orun.jobName}, 'runId', ${orun.openlineageRunId}) end as openlineage
          from ${runs} ${r} left join ${openlineageRuns} ${orun} on ${orun.runId} = ${r.id}
          where ${r.id} = any(${idList(runIds)})`,
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
