/**
 * The traversal, in the database: one recursive query walks both directions from the base, and one set-based
 * query per hop layer serves the path search. Everything after the walk is pure functions over its rows.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, selectPreparedRows } from "../db/client";

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
}

interface WalkRow {
  side: "up" | "down";
  depth: number;
  id: string;
  kind: WalkedKind;
  via: string;
  type: string;
  label: string;
  generated: boolean;
}

/** A list of ids as one text parameter: any number of ids in one bound value, on both drivers. */
export const idList = (ids: Iterable<string>) => sql`string_to_array(${[...ids].join(",")}, ',')`;

const asOfCondition = (column: SQL, asOf: Date | undefined) =>
  asOf ? sql`and ${column} <= ${asOf.toISOString()}::timestamptz` : sql``;

/**
 * Everything within `upstream` and `downstream` hops of the base, with every edge leaving a node that lies
 * closer than the budget (so the answer equals a breadth-first search), as it stood at `asOf`.
 */
export async function walkLineage(db: Db, base: WalkedNode, options: WalkOptions): Promise<WalkedGraph> {
  const { asOf } = options;
  const committed = (version: SQL) =>
    sql`${version}.state = 'committed' ${asOfCondition(sql`${version}.committed_at`, asOf)}`;
  const rows = await selectPreparedRows<WalkRow>(
    db,
    sql`
    with recursive
    up(id, kind, depth, via) as (
      select ${base.id}::text, ${base.kind}::text, 0, null::text
      union
      select step.id, step.kind, up.depth + 1, up.id
      from up cross join lateral (
        select o.run_id as id, 'run'::text as kind from run_outputs o
        where up.kind = 'version' and o.version_id = up.id ${asOfCondition(sql`o.created_at`, asOf)}
        union all
        select i.version_id, 'version'::text from run_inputs i join versions v on v.id = i.version_id
        where up.kind = 'run' and i.run_id = up.id and ${committed(sql`v`)} ${asOfCondition(sql`i.created_at`, asOf)}
      ) step
      where up.depth < ${options.upstream}
    ),
    down(id, kind, depth, via) as (
      select ${base.id}::text, ${base.kind}::text, 0, null::text
      union
      select step.id, step.kind, down.depth + 1, down.id
      from down cross join lateral (
        select i.run_id as id, 'run'::text as kind from run_inputs i
        where down.kind = 'version' and i.version_id = down.id ${asOfCondition(sql`i.created_at`, asOf)}
        union all
        select o.version_id, 'version'::text from run_outputs o join versions v on v.id = o.version_id
        where down.kind = 'run' and o.run_id = down.id and ${committed(sql`v`)} ${asOfCondition(sql`o.created_at`, asOf)}
      ) step
      where down.depth < ${options.downstream}
    ),
    walked as (
      select 'up' as side, * from up where depth > 0
      union all
      select 'down' as side, * from down where depth > 0
    )
    select w.side, w.depth, w.id, w.kind, w.via,
      coalesce(r.job_type, a.type) as type,
      coalesce(r.name, a.name || ':v' || v.index) as label,
      coalesce(v.generated, false) as generated
    from walked w
    left join runs r on w.kind = 'run' and r.id = w.id
    left join versions v on w.kind = 'version' and v.id = w.id
    left join artifacts a on a.id = v.artifact_id`,
  );
  return graphOfRows(base, rows);
}

/** Nodes at their nearest depth (upstream wins the rare node reachable both ways), edges deduplicated. */
function graphOfRows(base: WalkedNode, rows: WalkRow[]): WalkedGraph {
  const nodes = new Map<string, WalkedNode>([[base.id, base]]);
  const upFirst = [...rows.filter((row) => row.side === "up"), ...rows.filter((row) => row.side === "down")];
  for (const row of upFirst) {
    if (row.id === base.id) continue;
    const depth = row.side === "up" ? -row.depth : row.depth;
    const known = nodes.get(row.id);
    if (known && (Math.sign(known.depth) !== Math.sign(depth) || Math.abs(known.depth) <= row.depth)) continue;
    nodes.set(row.id, {
      id: row.id,
      kind: row.kind,
      depth,
      type: row.type,
      label: row.label,
      generated: row.generated,
    });
  }
  const edges = new Map<string, WalkedEdge>();
  for (const row of rows) {
    const [source, target] = row.side === "up" ? [row.id, row.via] : [row.via, row.id];
    const kind = nodes.get(source)?.kind === "version" ? "input" : "output";
    edges.set(`${source}>${target}`, { source, target, kind });
  }
  return { base, nodes, edges: [...edges.values()] };
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
  const rows = await selectPreparedRows<{ relation: "output" | "input" | "consumer"; anchor: string; id: string }>(
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
  const rows = await selectPreparedRows<{ id: string; type: string; label: string; generated: boolean }>(
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
  return selectPreparedRows(db, query);
}
