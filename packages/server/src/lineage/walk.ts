/**
 * The traversal, in the database: one set-based query per hop layer and direction, which counts the layer's new
 * nodes before fetching them, so a large layer can end the walk (maxNodes) or be left to `layer-clusters.ts`.
 * The path search steps the same way. Everything after the walk is pure functions over its rows.
 *
 * Known limits of stopping early (expandClusters with maxNodes): the cut answer can differ from cutting the full
 * walk when a node reached both ways (a run that logs its own input again) shows upstream at a hop past the
 * stop, or when a filter hides a node past the stop on a path back into kept nodes (a diamond of unequal
 * sides): that hidden edge is missing.
 */
import { type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Db, selectRows } from "../db/client";
import { artifacts, runInputs, runOutputs, runs, versions } from "../db/schema";
import { isShown, type NodeFilter } from "./filters";
import type { WalkedEdge, WalkedGraph, WalkedKind, WalkedNode } from "./walked-graph";

export type { WalkedEdge, WalkedGraph, WalkedKind, WalkedNode } from "./walked-graph";

export interface WalkOptions {
  upstream: number;
  downstream: number;
  asOf?: Date | undefined;
  /**
   * A hop layer with more new nodes than this is measured but not fetched: with `budget` it may end the walk,
   * otherwise its direction stops there and the layer is left to `clusterDeferredLayers`. Default: fetch all.
   */
  largeLayer?: number | undefined;
  /** Stop at the first hop layer that certainly holds more shown nodes than `maxNodes` (cutAtLayers would drop it). */
  budget?: { maxNodes: number; filter: NodeFilter } | undefined;
}

export type WalkDirection = "up" | "down";

/** Where one direction of the walk stopped because its next layer was large: the layer before it, fetched. */
export interface DeferredStart {
  direction: WalkDirection;
  /** The first hop not fetched. */
  hop: number;
  frontier: WalkedNode[];
  /** Every node this direction walked, the base included. */
  seen: string[];
}

export interface LayeredWalk extends WalkedGraph {
  deferred: DeferredStart[];
  /** Hop layers this far from the base and beyond are certainly cut by `maxNodes`: they were not walked. */
  cutFrom?: number;
}

interface StepRow {
  total: number;
  src: string | null;
  dst: string | null;
  type: string | null;
  label: string | null;
  generated: boolean | null;
}

/** A list of ids as one text parameter: any number of ids in one bound value, on both drivers. */
export const idList = (ids: Iterable<string>) => sql`string_to_array(${[...ids].join(",")}, ',')`;

export const asOfCondition = (column: SQL, asOf: Date | undefined) =>
  asOf ? sql`and ${column} <= ${asOf.toISOString()}::timestamptz` : sql``;

/**
 * The tables the walk reads, under short aliases: `${v.id}` is a column, `${tables.v}` the table in a FROM or
 * JOIN. Columns come from the drizzle schema, so a renamed column fails to compile rather than at run time.
 */
const i = alias(runInputs, "i");
const o = alias(runOutputs, "o");
const v = alias(versions, "v");
const nr = alias(runs, "nr");
const na = alias(artifacts, "na");
const tables = {
  i: sql`${runInputs} ${i}`,
  o: sql`${runOutputs} ${o}`,
  v: sql`${versions} ${v}`,
  nr: sql`${runs} ${nr}`,
  na: sql`${artifacts} ${na}`,
};

/** The joined version `v` is committed (by `asOf`). */
export const committed = (asOf: Date | undefined) =>
  sql`${v.state} = 'committed' ${asOfCondition(sql`${v.committedAt}`, asOf)}`;

/** The kind of the nodes one hop away from nodes of `kind`: the graph is bipartite. */
export const otherKind = (kind: WalkedKind): WalkedKind => (kind === "version" ? "run" : "version");

/**
 * `select src, dst`: the edges leaving the nodes of CTE `frontier` (all of `kind`) in `direction`, as of `asOf`;
 * with `carry`, also that column of the frontier (as `src_<carry>`). Edges into versions not committed (by `asOf`)
 * are left out, unless `uncommitted` (the caller checks the version itself, in a join it makes anyway).
 */
export function layerEdges(
  frontier: string,
  kind: WalkedKind,
  direction: WalkDirection,
  asOf: Date | undefined,
  options: { carry?: string; uncommitted?: boolean } = {},
): SQL {
  const from = sql.raw(frontier);
  const { carry } = options;
  const src = sql.raw(carry ? `f.id as src, f.${carry} as src_${carry}` : "f.id as src");
  const at = (column: SQL) => asOfCondition(column, asOf);
  const version = (column: SQL) =>
    options.uncommitted ? sql`where true` : sql`join ${tables.v} on ${v.id} = ${column} where ${committed(asOf)}`;
  if (direction === "down" && kind === "version")
    return sql`select ${src}, ${i.runId} as dst from ${from} f join ${tables.i} on ${i.versionId} = f.id
      where true ${at(sql`${i.createdAt}`)}`;
  if (direction === "down")
    return sql`select ${src}, ${o.versionId} as dst from ${from} f join ${tables.o} on ${o.runId} = f.id
      ${version(sql`${o.versionId}`)} ${at(sql`${o.createdAt}`)}`;
  if (kind === "version")
    return sql`select ${src}, ${o.runId} as dst from ${from} f join ${tables.o} on ${o.versionId} = f.id
      where true ${at(sql`${o.createdAt}`)}`;
  return sql`select ${src}, ${i.versionId} as dst from ${from} f join ${tables.i} on ${i.runId} = f.id
    ${version(sql`${i.versionId}`)} ${at(sql`${i.createdAt}`)}`;
}

/**
 * The join bringing type, label and generated flag of the node whose id the CTE column `column` holds, of
 * `kind`, and those three columns.
 */
export function nodeColumns(kind: WalkedKind, column: string): { join: SQL; type: SQL; label: SQL; generated: SQL } {
  const id = sql.raw(column);
  return kind === "run"
    ? {
        join: sql`join ${tables.nr} on ${nr.id} = ${id}`,
        type: sql`${nr.jobType}`,
        label: sql`${nr.name}`,
        generated: sql`false`,
      }
    : {
        join: sql`join ${tables.v} on ${v.id} = ${id} join ${tables.na} on ${na.id} = ${v.artifactId}`,
        type: sql`${na.type}`,
        label: sql`${na.name} || ':v' || ${v.index}`,
        generated: sql`${v.generated}`,
      };
}

const NO_CAP = 2_147_483_647;

/**
 * One hop layer in one set-based query: the edges leaving `frontier`, and the type and label of the nodes they
 * reach, unless more than `cap` new nodes (not in `seen`) lie there: then only their count.
 */
async function stepFromFrontier(
  db: Db,
  frontier: WalkedNode[],
  direction: WalkDirection,
  seen: Set<string>,
  cap: number,
  asOf: Date | undefined,
): Promise<{ total: number; rows: StepRow[]; complete: boolean }> {
  const kind = (frontier[0] as WalkedNode).kind;
  const columns = nodeColumns(otherKind(kind), "s.dst");
  const rows = await selectRows<StepRow>(
    db,
    sql`
    with frontier(id) as (select unnest(${idList(frontier.map((node) => node.id))})),
    step as (${layerEdges("frontier", kind, direction, asOf)}),
    fresh as (select s.*, not (s.dst = any(${idList(seen)})) as fresh from step s),
    measure as (select count(distinct dst)::int as total from fresh where fresh)
    select m.total, s.src, s.dst, s.type, s.label, s.generated from measure m left join (
      select s.src, s.dst, ${columns.type} as type, ${columns.label} as label, ${columns.generated} as generated
      from fresh s ${columns.join}
      where not s.fresh or (select total from measure) <= ${cap}
    ) s on true`,
  );
  const total = Number(rows[0]?.total ?? 0);
  const stepRows = rows.filter((row) => row.src !== null);
  // A large layer still brings its edges back into walked nodes (a diamond), which a cut answer keeps.
  return { total, rows: stepRows, complete: total <= cap };
}

/**
 * Everything within `upstream` and `downstream` hops of the base, with every edge leaving a node that lies
 * closer than the budget (so the answer equals a breadth-first search), as it stood at `asOf`: one set-based
 * query per hop layer and direction. A node reached both ways shows upstream.
 */
export async function walkLineage(db: Db, base: WalkedNode, options: WalkOptions): Promise<LayeredWalk> {
  const { asOf, budget } = options;
  const largeLayer = options.largeLayer ?? NO_CAP;
  const hops = new Map<WalkDirection, Map<string, WalkedNode>>();
  const edges = new Map<string, WalkedEdge>();
  const deferred: DeferredStart[] = [];
  let cutFrom = Number.POSITIVE_INFINITY;
  // Shown nodes per hop, per direction, for the maxNodes lower bound.
  const shownAt = new Map<WalkDirection, number[]>([
    ["up", []],
    ["down", []],
  ]);
  const shownWithin = (hop: number) => {
    let count = 1;
    for (const perHop of shownAt.values()) for (let h = 1; h <= hop; h++) count += perHop[h] ?? 0;
    return count;
  };

  for (const direction of ["up", "down"] as const) {
    const walked = new Map<string, WalkedNode>();
    hops.set(direction, walked);
    const seen = new Set([base.id]);
    const sign = direction === "up" ? -1 : 1;
    const budgetHops = direction === "up" ? options.upstream : options.downstream;
    const upIds = direction === "down" ? (hops.get("up") as Map<string, WalkedNode>) : new Map();
    let frontier: WalkedNode[] = [base];
    for (let hop = 1; hop <= budgetHops && hop < cutFrom && frontier.length > 0; hop++) {
      let step = await stepFromFrontier(db, frontier, direction, seen, largeLayer, asOf);
      const frontierKind = (frontier[0] as WalkedNode).kind;
      const kind = otherKind(frontierKind);
      const edgeKind = (direction === "down" ? frontierKind : kind) === "version" ? "input" : "output";
      for (const row of step.rows) {
        const [source, target] = direction === "down" ? [row.src, row.dst] : [row.dst, row.src];
        edges.set(`${source}>${target}`, { source: source as string, target: target as string, kind: edgeKind });
      }
      if (!step.complete && budget) {
        // Nodes also walked upstream show there; the rest of a layer no filter can hide all show at this hop.
        const unhideable =
          kind === "run" ? !budget.filter.jobTypes : budget.filter.includeGenerated && !budget.filter.artifactTypes;
        if (unhideable && shownWithin(hop - 1) + step.total - upIds.size > budget.maxNodes) {
          cutFrom = hop;
          break;
        }
        step = await stepFromFrontier(db, frontier, direction, seen, NO_CAP, asOf);
      }
      if (!step.complete) {
        deferred.push({ direction, hop, frontier, seen: [...seen] });
        break;
      }
      const next: WalkedNode[] = [];
      for (const row of step.rows) {
        const [source, target] = direction === "down" ? [row.src, row.dst] : [row.dst, row.src];
        edges.set(`${source}>${target}`, { source: source as string, target: target as string, kind: edgeKind });
        const id = row.dst as string;
        if (seen.has(id)) continue;
        seen.add(id);
        const node: WalkedNode = {
          id,
          kind,
          depth: sign * hop,
          type: row.type as string,
          label: row.label as string,
          generated: row.generated === true,
        };
        walked.set(id, node);
        next.push(node);
      }
      if (budget) {
        (shownAt.get(direction) as number[])[hop] = next.filter(
          (node) => !upIds.has(node.id) && isShown(node, budget.filter),
        ).length;
        if (shownWithin(hop) > budget.maxNodes) {
          cutFrom = hop;
          break;
        }
      }
      frontier = next;
    }
  }

  const nodes = new Map<string, WalkedNode>([[base.id, base]]);
  for (const node of (hops.get("up") as Map<string, WalkedNode>).values()) nodes.set(node.id, node);
  for (const node of (hops.get("down") as Map<string, WalkedNode>).values())
    if (!nodes.has(node.id)) nodes.set(node.id, node);
  return {
    base,
    nodes,
    edges: [...edges.values()],
    deferred,
    ...(Number.isFinite(cutFrom) ? { cutFrom } : {}),
  };
}

export interface Sibling extends WalkedNode {
  /** The walked node it hangs off. */
  anchor: string;
  /** The edge, forward in time. */
  edge: WalkedEdge;
}

/**
 * Siblings for extended lineage, in one query: other outputs of upstream (producing) runs, other inputs of
 * downstream (consuming) runs, other consumers of upstream versions.
 */
export async function selectSiblings(db: Db, graph: WalkedGraph, asOf: Date | undefined): Promise<Sibling[]> {
  const walked = [...graph.nodes.values()].filter((node) => node.id !== graph.base.id);
  const producers = walked.filter((node) => node.kind === "run" && node.depth < 0).map((node) => node.id);
  const consumers = walked.filter((node) => node.kind === "run" && node.depth > 0).map((node) => node.id);
  const ancestors = walked.filter((node) => node.kind === "version" && node.depth < 0).map((node) => node.id);
  if (producers.length + consumers.length + ancestors.length === 0) return [];
  const rows = await selectRows<{ relation: "output" | "input" | "consumer"; anchor: string; id: string }>(
    db,
    sql`
    select 'output' as relation, ${o.runId} as anchor, ${o.versionId} as id
    from ${tables.o} join ${tables.v} on ${v.id} = ${o.versionId}
    where ${o.runId} = any(${idList(producers)}) and ${committed(asOf)} ${asOfCondition(sql`${o.createdAt}`, asOf)}
    union all
    select 'input', ${i.runId}, ${i.versionId}
    from ${tables.i} join ${tables.v} on ${v.id} = ${i.versionId}
    where ${i.runId} = any(${idList(consumers)}) and ${committed(asOf)} ${asOfCondition(sql`${i.createdAt}`, asOf)}
    union all
    select 'consumer', ${i.versionId}, ${i.runId}
    from ${tables.i}
    where ${i.versionId} = any(${idList(ancestors)}) ${asOfCondition(sql`${i.createdAt}`, asOf)}`,
  );
  // Siblings already in the graph bring only their edge (another input of a consumer that is an ancestor).
  const fresh = rows.filter((row) => !graph.nodes.has(row.id));
  const labels = await selectLabels(
    db,
    fresh.filter((row) => row.relation !== "consumer").map((row) => row.id),
    fresh.filter((row) => row.relation === "consumer").map((row) => row.id),
  );
  return rows.flatMap((row) => {
    const anchor = graph.nodes.get(row.anchor);
    const label = labels.get(row.id) ?? graph.nodes.get(row.id);
    if (!anchor || !label) return [];
    const kind: WalkedKind = row.relation === "consumer" ? "run" : "version";
    const depth = row.relation === "input" ? anchor.depth - 1 : anchor.depth + 1;
    const edge: WalkedEdge =
      row.relation === "output"
        ? { source: row.anchor, target: row.id, kind: "output" }
        : row.relation === "input"
          ? { source: row.id, target: row.anchor, kind: "input" }
          : { source: row.anchor, target: row.id, kind: "input" };
    const { type, label: name, generated } = label;
    return [
      { id: row.id, kind, depth, type, label: name, generated, anchor: row.anchor, edge, extended: true as const },
    ];
  });
}

/** Type, label and generated flag of versions and runs, as walk rows carry them. */
export async function selectLabels(
  db: Db,
  versionIds: string[],
  runIds: string[],
): Promise<Map<string, Pick<WalkedNode, "type" | "label" | "generated">>> {
  if (versionIds.length + runIds.length === 0) return new Map();
  const rows = await selectRows<{ id: string; type: string; label: string; generated: boolean }>(
    db,
    sql`
    select ${v.id}, ${na.type}, ${na.name} || ':v' || ${v.index} as label, ${v.generated}
    from ${tables.v} join ${tables.na} on ${na.id} = ${v.artifactId} where ${v.id} = any(${idList(versionIds)})
    union all
    select ${nr.id}, ${nr.jobType}, ${nr.name}, false from ${tables.nr} where ${nr.id} = any(${idList(runIds)})`,
  );
  return new Map(rows.map(({ id, ...label }) => [id, label]));
}

export type StepDirection = "upstream" | "downstream";

/** One hop layer: the neighbours of `frontier` nodes in one direction, as edges `from → to` of the walk. */
export async function stepLayer(
  db: Db,
  frontier: { id: string; kind: WalkedKind }[],
  direction: StepDirection,
  asOf: Date | undefined,
): Promise<{ from: string; to: string; kind: WalkedKind }[]> {
  const versionIds = frontier.filter((node) => node.kind === "version").map((node) => node.id);
  const runIds = frontier.filter((node) => node.kind === "run").map((node) => node.id);
  const query =
    direction === "upstream"
      ? sql`
        select ${o.versionId} as "from", ${o.runId} as "to", 'run' as kind from ${tables.o}
        where ${o.versionId} = any(${idList(versionIds)}) ${asOfCondition(sql`${o.createdAt}`, asOf)}
        union all
        select ${i.runId}, ${i.versionId}, 'version' from ${tables.i} join ${tables.v} on ${v.id} = ${i.versionId}
        where ${i.runId} = any(${idList(runIds)}) and ${committed(asOf)} ${asOfCondition(sql`${i.createdAt}`, asOf)}`
      : sql`
        select ${i.versionId} as "from", ${i.runId} as "to", 'run' as kind from ${tables.i}
        where ${i.versionId} = any(${idList(versionIds)}) ${asOfCondition(sql`${i.createdAt}`, asOf)}
        union all
        select ${o.runId}, ${o.versionId}, 'version' from ${tables.o} join ${tables.v} on ${v.id} = ${o.versionId}
        where ${o.runId} = any(${idList(runIds)}) and ${committed(asOf)} ${asOfCondition(sql`${o.createdAt}`, asOf)}`;
  return selectRows(db, query);
}
