/**
 * The walk of an ordinary lineage query in one statement: a recursive query reaches everything within the hops
 * of both directions, bounded by a row limit so that a hub cannot make it large, and answers every edge leaving
 * a node that lies closer than the last layer, with the label of each node reached and whether the reader may
 * see it (so no query per project follows). It answers only while the whole walk fits under the limit, which is
 * at most the large-layer threshold: then no layer can be over it and the per-hop walk (walk.ts `walkLineage`)
 * would group nothing, so the graph is the plain breadth-first search that walk answers, node for node and edge
 * for edge. Over the limit it answers nothing, and the caller walks hop by hop (large layers grouped in the
 * database).
 */
import { type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, alias } from "drizzle-orm/pg-core";
import { type Db, selectRows } from "../db/client";
import { artifacts, runInputs, runOutputs, runs, versions } from "../db/schema";
import { isUnseen, type ProjectVisibility } from "./visibility";
import { otherKind, type WalkOptions } from "./walk";
import { asOfCondition } from "./walk-sql";
import type { WalkedEdge, WalkedGraph, WalkedKind, WalkedNode } from "./walked-graph";

/** The most nodes (counted per direction and hop distance) one statement walks before the per-hop walk takes over. */
export const SMALL_WALK_ROWS = 2_000;

export interface SmallWalk {
  graph: WalkedGraph;
  /** The nodes reached that the reader may not see (visibility.ts `isUnseen`): the caller leaves them out. */
  unseen: Set<string>;
}

export interface SmallWalkOptions extends WalkOptions {
  /** The project of the query, and who reads it. */
  project: string;
  visibility: ProjectVisibility;
}

interface StepRow {
  what: "edge" | "over";
  dir: "up" | "down";
  src: string;
  dst: string;
  kind: WalkedKind;
  /** Nearest hop distance of `dst` in this direction. */
  depth: number;
  type: string;
  generated: boolean;
  label: string;
  unseen: boolean;
}

/**
 * The walk within `upstream` and `downstream` hops of `base`, as it stood at `asOf`, in one round trip; or
 * undefined when it reaches more than min(`largeLayer`, SMALL_WALK_ROWS) rows. A node reached both ways shows
 * upstream.
 */
export async function walkSmallLineage(
  db: Db,
  base: WalkedNode,
  options: SmallWalkOptions,
): Promise<SmallWalk | undefined> {
  const limit = Math.min(options.largeLayer ?? SMALL_WALK_ROWS, SMALL_WALK_ROWS);
  const rows = await selectRows<StepRow>(db, smallWalkQuery(base, options, limit));
  if (rows.some((row) => row.what === "over")) return undefined;

  // Nearest first, upstream before downstream within a distance (the order the per-hop walk meets them in),
  // then by label and id: the answer lists nodes in this order, whatever plan the database chose.
  const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  rows.sort(
    (a, b) =>
      a.depth - b.depth || order(b.dir, a.dir) || order(a.label, b.label) || order(a.dst, b.dst) || order(a.src, b.src),
  );
  const sides = { up: new Map<string, WalkedNode>(), down: new Map<string, WalkedNode>() };
  const edges = new Map<string, WalkedEdge>();
  const unseen = new Set<string>();
  for (const row of rows) {
    const { kind } = row;
    const [source, target, sourceKind] =
      row.dir === "down" ? [row.src, row.dst, otherKind(kind)] : [row.dst, row.src, kind];
    edges.set(`${source}>${target}`, { source, target, kind: sourceKind === "version" ? "input" : "output" });
    const side = sides[row.dir];
    if (row.dst === base.id || side.has(row.dst)) continue;
    const depth = row.dir === "up" ? -row.depth : row.depth;
    side.set(row.dst, { id: row.dst, kind, depth, type: row.type, label: row.label, generated: row.generated });
    if (row.unseen) unseen.add(row.dst);
  }
  const nodes = new Map<string, WalkedNode>([[base.id, base], ...sides.up]);
  for (const [id, node] of sides.down) if (!nodes.has(id)) nodes.set(id, node);
  return { graph: { base, nodes, edges: [...edges.values()] }, unseen };
}

/**
 * `reach`: every (direction, node, hop distance) of a walk from the base, cycles included (UNION keeps each
 * once, the hops bound the distance), at most `limit` + 1 rows. `nearest`: each node's shortest distance per
 * direction. Then, only when `reach` stayed within the limit, the edges leaving the nodes nearer than their
 * direction's last hop, with the node each reaches; else one `over` row.
 */
function smallWalkQuery(base: WalkedNode, options: SmallWalkOptions, limit: number): SQL {
  const hops = (row: string) =>
    sql`case when ${sql.raw(row)}.dir = 'up' then ${options.upstream}::int else ${options.downstream}::int end`;
  const [r, v, a] = [alias(runs, "r"), alias(versions, "v"), alias(artifacts, "a")];
  const unseen = (column: AnyPgColumn) => isUnseen(column, options.project, options.visibility);
  return sql`
    with recursive reach(dir, id, kind, depth) as (
      select d.dir, ${base.id}::text, ${base.kind}::text, 0 from (values ('up'::text), ('down'::text)) d(dir)
      union
      select w.dir, s.id, s.kind, w.depth + 1
      from reach w cross join lateral (${stepFrom("w", options.asOf)}) s
      where w.depth < ${hops("w")}
    ),
    bounded as (select * from reach limit ${limit + 1}),
    within as (select count(*) <= ${limit} as yes from bounded),
    nearest as (select dir, id, min(kind) as kind, min(depth) as depth from bounded group by dir, id)
    select 'edge'::text as what, n.dir, n.id as src, s.id as dst, s.kind, far.depth, s.type, s.generated,
      coalesce(${r.name}, ${a.name} || ':v' || ${v.index}) as label, case when s.kind = 'run' then ${unseen(r.project)} else ${unseen(v.project)} end as unseen
    from nearest n cross join lateral (${stepFrom("n", options.asOf)}) s
      join nearest far on far.dir = n.dir and far.id = s.id
      left join ${runs} ${r} on s.kind = 'run' and ${r.id} = s.id
      left join ${versions} ${v} on s.kind = 'version' and ${v.id} = s.id
      left join ${artifacts} ${a} on ${a.id} = ${v.artifactId}
    where (select yes from within) and n.depth < ${hops("n")}
    union all
    select 'over', null, null, null, null, null, null, null, null, null where not (select yes from within)`;
}

/**
 * `select id, kind, type, generated`: the nodes one hop from the walk row `row` (`dir`, `id`, `kind`) in its
 * direction, by the edges that existed at `asOf`; `type` and `generated` are the reached node's, kept beside
 * the edge (the conditions of walk.ts `edgesFrom`).
 */
function stepFrom(row: string, asOf: Date | undefined): SQL {
  const [i, o] = [alias(runInputs, "i"), alias(runOutputs, "o")];
  const at = (column: SQL) => asOfCondition(column, asOf);
  const w = (column: string) => sql.raw(`${row}.${column}`);
  return sql`
    select ${o.runId} as id, 'run'::text as kind, ${o.runJobType} as type, false as generated
    from ${runOutputs} ${o}
    where ${w("dir")} = 'up' and ${w("kind")} = 'version' and ${o.versionId} = ${w("id")} ${at(sql`${o.createdAt}`)}
    union all
    select ${i.versionId}, 'version'::text, ${i.versionType}, ${i.versionGenerated}
    from ${runInputs} ${i}
    where ${w("dir")} = 'up' and ${w("kind")} = 'run' and ${i.runId} = ${w("id")} ${at(sql`${i.createdAt}`)}
    union all
    select ${i.runId}, 'run'::text, ${i.runJobType}, false
    from ${runInputs} ${i}
    where ${w("dir")} = 'down' and ${w("kind")} = 'version' and ${i.versionId} = ${w("id")} ${at(sql`${i.createdAt}`)}
    union all
    select ${o.versionId}, 'version'::text, ${o.versionType}, ${o.versionGenerated}
    from ${runOutputs} ${o}
    where ${w("dir")} = 'down' and ${w("kind")} = 'run' and ${o.runId} = ${w("id")} ${at(sql`${o.createdAt}`)}`;
}
