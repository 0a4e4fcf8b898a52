/** Graph summaries of shown nodes, in one query per kind, with aliases as they stood at `asOf`. */
import type { RunNode, VersionNode } from "@pedigree/protocol";
import { type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Db, selectRows } from "../db/client";
import { aliases, artifacts, runs, versions } from "../db/schema";
import { idList, type WalkedNode } from "./walk";

type VersionSummaryRow = Omit<VersionNode, "depth" | "extended" | "kind" | "version"> & { index: number };
type RunSummaryRow = Omit<RunNode, "depth" | "extended" | "kind">;

const isoTime = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const v = alias(versions, "v");
const newer = alias(versions, "newer");
const a = alias(artifacts, "a");
const al = alias(aliases, "al");
const r = alias(runs, "r");

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
  const committedBy = asOf ? sql`and ${newer.committedAt} <= ${at}` : sql``;
  const [versionRows, runRows] = await Promise.all([
    versionIds.length === 0
      ? []
      : selectRows<VersionSummaryRow & { latest: boolean }>(
          db,
          sql`
          select ${v.id}, ${a.name} as artifact, ${a.type}, ${v.index}, ${v.digest}, ${v.size}::float8 as size,
            ${v.generated}, ${isoTime(sql`${v.createdAt}`)} as "createdAt",
            not exists (select 1 from ${versions} ${newer} where ${newer.artifactId} = ${v.artifactId}
              and ${newer.state} = 'committed' and ${newer.index} > ${v.index} ${committedBy}) as latest,
            coalesce((select array_agg(${al.alias} order by ${al.alias}) from ${aliases} ${al}
              where ${al.versionId} = ${v.id} and ${held}), '{}') as aliases
          from ${versions} ${v} join ${artifacts} ${a} on ${a.id} = ${v.artifactId}
          where ${v.id} = any(${idList(versionIds)})`,
        ),
    runIds.length === 0
      ? []
      : selectRows<RunSummaryRow>(
          db,
          sql`
          select ${r.id}, ${r.name}, ${r.jobType} as "jobType", ${r.state},
            ${isoTime(sql`${r.startedAt}`)} as "startedAt", ${isoTime(sql`${r.finishedAt}`)} as "finishedAt"
          from ${runs} ${r} where ${r.id} = any(${idList(runIds)})`,
        ),
  ]);
  const depthOf = new Map(nodes.map((node) => [node.id, node]));
  const summaries = new Map<string, VersionNode | RunNode>();
  for (const { index, latest, ...row } of versionRows) {
    const node = depthOf.get(row.id) as WalkedNode;
    summaries.set(row.id, {
      ...row,
      kind: "version",
      version: `v${index}`,
      aliases: latest ? ["latest", ...row.aliases] : row.aliases,
      depth: node.depth,
      ...(node.extended ? { extended: true } : {}),
    });
  }
  for (const row of runRows) {
    const node = depthOf.get(row.id) as WalkedNode;
    summaries.set(row.id, {
      ...row,
      kind: "run",
      depth: node.depth,
      ...(node.extended ? { extended: true } : {}),
    });
  }
  return summaries;
}
