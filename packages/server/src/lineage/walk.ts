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
import { type Db, selectRows } from "../db/client";
import { isShown, type NodeFilter } from "./filters";

export type WalkedKind = "version" | "run";

export interface WalkedNode {
  id: string;
  kind: WalkedKind;
  /** Negative upstream, positive downstream, 0 for the base. */
  depth: number;
  /** Artifact type of a version, job type of a run. */
  type: string;
  /** `artifact:vN` of a version, the display name of a run. */
  label: string;
  generated: boolean;
  extended?: true;
  /** Pulled or expanded out of this cluster. */
  cluster?: string;
}

export interface WalkedEdge {
  source: string;
  target: string;
  kind: "input" | "output" | "hidden";
}

/** The walked graph before it is shaped for display: edges always point forward in time. */
export interface WalkedGraph {
  base: WalkedNode;
  nodes: Map<string, WalkedNode>;
  edges: WalkedEdge[];
}

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

export const committed = (asOf: Date | undefined) =>
  sql`v.state = 'committed' ${asOfCondition(sql`v.committed_at`, asOf)}`;

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
  const at = (column: string) => asOfCondition(sql.raw(column), asOf);
  const version = (column: string) =>
    options.uncommitted ? sql`where true` : sql`join versions v on v.id = ${sql.raw(column)} where ${committed(asOf)}`;
  if (direction === "down" && kind === "version")
    return sql`select ${src}, i.run_id as dst from ${from} f join run_inputs i on i.version_id = f.id
      where true ${at("i.created_at")}`;
  if (direction === "down")
    return sql`select ${src}, o.version_id as dst from ${from} f join run_outputs o on o.run_id = f.id
      ${version("o.version_id")} ${at("o.created_at")}`;
  if (kind === "version")
    return sql`select ${src}, o.run_id as dst from ${from} f join run_outputs o on o.version_id = f.id
      where true ${at("o.created_at")}`;
  return sql`select ${src}, i.version_id as dst from ${from} f join run_inputs i on i.run_id = f.id
    ${version("i.version_id")} ${at("i.created_at")}`;
}

/** The join bringing type, label and generated flag of the node `column` names, of `kind`, and those three columns. */
export function nodeColumns(kind: WalkedKind, column: string): { join: SQL; type: SQL; label: SQL; generated: SQL } {
  const id = sql.raw(column);
  return kind === "run"
    ? { join: sql`join runs nr on nr.id = ${id}`, type: sql`nr.job_type`, label: sql`nr.name`, generated: sql`false` }
    : {
        join: sql`join versions v on v.id = ${id} join artifacts na on na.id = v.artifact_id`,
        type: sql`na.type`,
        label: sql`na.name || ':v' || v.index`,
        generated: sql`v.generated`,
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
  const committed = sql`v.state = 'committed' ${asOfCondition(sql`v.committed_at`, asOf)}`;
  const rows = await selectRows<{ relation: "output" | "input" | "consumer"; anchor: string; id: string }>(
    db,
    sql`
    select 'output' as relation, o.run_id as anchor, o.version_id as id
    from run_outputs o join versions v on v.id = o.version_id
    where o.run_id = any(${idList(producers)}) and ${committed} ${asOfCondition(sql`o.created_at`, asOf)}
    union all
    select 'input', i.run_id, i.version_id
    from run_inputs i join versions v on v.id = i.version_id
    where i.run_id = any(${idList(consumers)}) and ${committed} ${asOfCondition(sql`i.created_at`, asOf)}
    union all
    select 'consumer', i.version_id, i.run_id
    from run_inputs i
    where i.version_id = any(${idList(ancestors)}) ${asOfCondition(sql`i.created_at`, asOf)}`,
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
    select v.id, a.type, a.name || ':v' || v.index as label, v.generated
    from versions v join artifacts a on a.id = v.artifact_id where v.id = any(${idList(versionIds)})
    union all
    select r.id, r.job_type, r.name, false from runs r where r.id = any(${idList(runIds)})`,
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
  const committed = sql`v.state = 'committed' ${asOfCondition(sql`v.committed_at`, asOf)}`;
  const query =
    direction === "upstream"
      ? sql`
        select o.version_id as "from", o.run_id as "to", 'run' as kind from run_outputs o
        where o.version_id = any(${idList(versionIds)}) ${asOfCondition(sql`o.created_at`, asOf)}
        union all
        select i.run_id, i.version_id, 'version' from run_inputs i join versions v on v.id = i.version_id
        where i.run_id = any(${idList(runIds)}) and ${committed} ${asOfCondition(sql`i.created_at`, asOf)}`
      : sql`
        select i.version_id as "from", i.run_id as "to", 'run' as kind from run_inputs i
        where i.version_id = any(${idList(versionIds)}) ${asOfCondition(sql`i.created_at`, asOf)}
        union all
        select o.run_id, o.version_id, 'version' from run_outputs o join versions v on v.id = o.version_id
        where o.run_id = any(${idList(runIds)}) and ${committed} ${asOfCondition(sql`o.created_at`, asOf)}`;
  return selectRows(db, query);
}
