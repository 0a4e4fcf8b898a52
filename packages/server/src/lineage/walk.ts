/**
 * The traversal, in the database: one set-based query per hop, both directions at once. Each direction's next
 * layer is counted before it is fetched; a layer with more new nodes than `largeLayer` is not fetched but
 * grouped where it lies, by kind, artifact or job type and generated flag (a `group` node per group, with its
 * count, first members and the edges from the identities that reach it), and the walk goes on from the groups'
 * members without ever fetching them. The ends' types are kept beside the edges (db/schema `edgeEnds`), so a
 * hub's 100,000 consumers are grouped from an index, and what they logged is counted from the two-hop paths kept
 * on write (hub-hops.ts, `lineage_hops`): no probe per consumer. A group of one member is that node, fetched, as
 * the layer's budget form shows it. Everything after the walk is pure functions over its rows.
 *
 * Group members are known only to the database: a node of a group reached again later on the same side (a
 * cycle through a run that logs its own input) is not recognised as seen. A node reached both ways shows
 * upstream, and a downstream group leaves out the fetched upstream nodes among its members.
 */
import { createHash } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { type Db, selectRows } from "../db/client";
import { FIRST_MEMBERS } from "./clusters";
import { type ConsumersOf, consumersHop, loggedByConsumersHop, loggedByConsumersMembers } from "./hub-hops";
import { asOfCondition, idList, labelOf } from "./walk-sql";

import type { WalkedEdge, WalkedGraph, WalkedKind, WalkedNode } from "./walked-graph";

export type { NodeGroup, WalkedEdge, WalkedGraph, WalkedKind, WalkedNode } from "./walked-graph";

export interface WalkOptions {
  upstream: number;
  downstream: number;
  asOf?: Date | undefined;
  /** A hop layer with more new nodes than this is grouped in the database instead of fetched. Default: fetch all. */
  largeLayer?: number | undefined;
  /**
   * The projects the reader sees (undefined: all). A grouped layer cannot be checked node by node, so for such a
   * reader only the hub's shortcuts group, and only a layer wholly in those projects (hub-hops.ts).
   */
  visibleProjects?: string[] | undefined;
}

export type WalkDirection = "up" | "down";

/** The kind of the nodes one hop away from nodes of `kind`: the graph is bipartite. */
export const otherKind = (kind: WalkedKind): WalkedKind => (kind === "version" ? "run" : "version");

/** The id of the budget cluster of one layer's nodes of one kind and type: `fitBudget` names it the same way. */
export const budgetClusterId = (depth: number, kind: WalkedKind, type: string, extended: boolean, generated: boolean) =>
  `cl_${createHash("sha256")
    .update(["budget", depth, kind, type, extended ? "x" : "", generated ? "g" : ""].join("\u0000"))
    .digest("hex")
    .slice(0, 16)}`;

/**
 * `select src, dst, type, generated`: the edges leaving the nodes of `frontier` (`select id, ident`, all of
 * `kind`) in `direction`, as of `asOf`; `src` is the frontier node's identity, `type` and `generated` those of
 * the node reached, read from the edge itself. An edge exists only to a committed version (outputs are written
 * at commit, inputs resolve committed versions), and no later than the version's commit.
 */
function edgesFrom(frontier: SQL, kind: WalkedKind, direction: WalkDirection, asOf: Date | undefined): SQL {
  const at = (column: string) => asOfCondition(sql.raw(column), asOf);
  if (direction === "down" && kind === "version")
    return sql`select f.ident as src, e.run_id as dst, e.run_job_type as type, false as generated
      from (${frontier}) f join run_inputs e on e.version_id = f.id where true ${at("e.created_at")}`;
  if (direction === "down")
    return sql`select f.ident as src, e.version_id as dst, e.version_type as type, e.version_generated as generated
      from (${frontier}) f join run_outputs e on e.run_id = f.id where true ${at("e.created_at")}`;
  if (kind === "version")
    return sql`select f.ident as src, e.run_id as dst, e.run_job_type as type, false as generated
      from (${frontier}) f join run_outputs e on e.version_id = f.id where true ${at("e.created_at")}`;
  return sql`select f.ident as src, e.version_id as dst, e.version_type as type, e.version_generated as generated
    from (${frontier}) f join run_inputs e on e.run_id = f.id where true ${at("e.created_at")}`;
}

const NO_CAP = 2_147_483_647;

interface Side {
  direction: WalkDirection;
  sign: -1 | 1;
  hops: number;
  /** Fetched nodes of the last layer. */
  frontier: WalkedNode[];
  /** Groups of the last layer. */
  groups: WalkedNode[];
  seen: Set<string>;
  walked: Map<string, WalkedNode>;
  /** Groups of the last layer that hold every consumer of one version with their job type (hub-hops.ts). */
  consumersOf: Map<string, ConsumersOf>;
}

interface HopRow {
  dir: WalkDirection;
  what: "edge" | "group" | "parent" | "first";
  src: string | null;
  dst: string | null;
  type: string;
  generated: boolean;
  label: string | null;
  fresh: boolean | null;
  total: number | null;
}

/**
 * Everything within `upstream` and `downstream` hops of the base, with every edge leaving a node that lies
 * closer than the budget (so the answer equals a breadth-first search while no layer is grouped), as it stood
 * at `asOf`: one query per hop, both directions in it. A node reached both ways shows upstream.
 */
export async function walkLineage(db: Db, base: WalkedNode, options: WalkOptions): Promise<WalkedGraph> {
  const { asOf } = options;
  const cap = options.largeLayer ?? NO_CAP;
  const visible = options.visibleProjects ? idList(options.visibleProjects) : undefined;
  const sides: Side[] = [
    { direction: "up", sign: -1, hops: options.upstream },
    { direction: "down", sign: 1, hops: options.downstream },
  ].map((side) => ({
    ...(side as Pick<Side, "direction" | "sign" | "hops">),
    frontier: [base],
    groups: [],
    seen: new Set([base.id]),
    walked: new Map(),
    consumersOf: new Map(),
  }));
  const edges = new Map<string, WalkedEdge>();
  const addEdge = (side: Side, from: string, to: string, fromKind: WalkedKind) => {
    const [source, target] = side.direction === "down" ? [from, to] : [to, from];
    const sourceKind = side.direction === "down" ? fromKind : otherKind(fromKind);
    edges.set(`${source}>${target}`, { source, target, kind: sourceKind === "version" ? "input" : "output" });
  };

  for (let hop = 1; ; hop++) {
    const active = sides.filter((side) => hop <= side.hops && side.frontier.length + side.groups.length > 0);
    if (active.length === 0) break;
    const frontierKind: WalkedKind = hop % 2 === 1 ? base.kind : otherKind(base.kind);
    const kind = otherKind(frontierKind);
    const queries = active.map((side) => {
      const frontier = frontierOf(side.frontier, side.groups);
      const shortcut = shortcutOf(side, base, frontierKind, cap);
      return {
        side,
        frontier,
        shortcut,
        query: sideHopQuery(side, frontier, frontierKind, shortcut, { asOf, cap, visible }),
      };
    });
    const rows = await selectRows<HopRow>(
      db,
      sql.join(
        queries.map((item) => sql`(${item.query})`),
        sql` union all `,
      ),
    );
    for (const { side, frontier, shortcut } of queries) {
      const mine = rows.filter((row) => row.dir === side.direction);
      const depth = side.sign * hop;
      const next: WalkedNode[] = [];
      const groups = new Map<string, WalkedNode>();
      const nextConsumersOf = new Map<string, ConsumersOf>();
      const keyOf = (row: HopRow) => `${row.type}\u0000${row.generated}`;
      for (const row of mine) {
        if (row.what === "edge") {
          addEdge(side, row.src as string, row.dst as string, frontierKind);
          const id = row.dst as string;
          if (!row.fresh || side.seen.has(id)) continue;
          side.seen.add(id);
          const node: WalkedNode = {
            id,
            kind,
            depth,
            type: row.type,
            label: row.label as string,
            generated: row.generated,
          };
          side.walked.set(id, node);
          next.push(node);
        } else if (row.what === "group") {
          const id = budgetClusterId(depth, kind, row.type, false, row.generated);
          const seen = [...side.seen];
          const members =
            shortcut?.kind === "loggedBy"
              ? loggedByConsumersMembers(shortcut.origin, row.type, row.generated, idList(seen), asOf)
              : sql`select distinct e.dst as id from (${edgesFrom(frontier, frontierKind, side.direction, asOf)}) e
            where e.type = ${row.type} and e.generated = ${row.generated}
              and not exists (select 1 from unnest(${idList(seen)}) seen(id) where seen.id = e.dst)`;
          if (shortcut?.kind === "consumers") nextConsumersOf.set(id, { from: shortcut.from, jobType: row.type });
          const group: WalkedNode = {
            id,
            kind,
            depth,
            type: row.type,
            label: "",
            generated: row.generated,
            group: { count: Number(row.total), firstMembers: [], members },
          };
          groups.set(keyOf(row), group);
        }
      }
      for (const row of mine)
        if (row.what === "first")
          groups.get(keyOf(row))?.group?.firstMembers.push({ id: row.dst as string, label: row.label as string });
      // Where each group's parent edges go: the group, or its only member, which the layer's budget form shows
      // on its own (a type alone in its layer), so it is taken out as a fetched node.
      const targets = new Map<string, string>();
      for (const [key, group] of groups) {
        const only = group.group?.count === 1 ? group.group.firstMembers[0] : undefined;
        if (only && !side.seen.has(only.id)) {
          groups.delete(key);
          nextConsumersOf.delete(group.id);
          const { group: _group, ...node } = { ...group, id: only.id, label: only.label };
          side.seen.add(node.id);
          side.walked.set(node.id, node);
          next.push(node);
          targets.set(key, node.id);
          continue;
        }
        // By id, as the queries list them (ids are [0-9a-z_], ordered alike by every collation).
        group.group?.firstMembers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        side.walked.set(group.id, group);
        targets.set(key, group.id);
      }
      for (const row of mine) {
        const target = row.what === "parent" ? targets.get(keyOf(row)) : undefined;
        if (target) addEdge(side, row.src as string, target, frontierKind);
      }
      side.consumersOf = nextConsumersOf;
      side.frontier = next;
      side.groups = [...groups.values()];
    }
  }

  const [up, down] = sides as [Side, Side];
  await leaveUpstreamNodesOutOfGroups(db, base, [up, down], edges, addEdge, asOf);
  const nodes = new Map<string, WalkedNode>([[base.id, base]]);
  for (const node of up.walked.values()) nodes.set(node.id, node);
  for (const node of down.walked.values()) if (!nodes.has(node.id)) nodes.set(node.id, node);
  return { base, nodes, edges: [...edges.values()] };
}

/**
 * A node reached both ways shows upstream, so a downstream group must not count it: a consumer of the base that
 * also logged it (a run logging its input unchanged) is a producer upstream. Fetched upstream nodes of a group's
 * kind and type are looked for among the neighbours of the group's parents (one query per such group: none on
 * most walks); those found leave the group and keep their own edges from those parents, as a fetched layer has.
 */
async function leaveUpstreamNodesOutOfGroups(
  db: Db,
  base: WalkedNode,
  [up, down]: [Side, Side],
  edges: Map<string, WalkedEdge>,
  addEdge: (side: Side, from: string, to: string, fromKind: WalkedKind) => void,
  asOf: Date | undefined,
): Promise<void> {
  const upstream = [...up.walked.values()].filter((node) => !node.group && !down.seen.has(node.id));
  for (const group of [...down.walked.values()]) {
    const members = group.group;
    if (!members) continue;
    const candidates = upstream.filter(
      (node) => node.kind === group.kind && node.type === group.type && node.generated === group.generated,
    );
    if (candidates.length === 0) continue;
    const parents = [...edges.values()].flatMap((edge) => {
      if (edge.target !== group.id) return [];
      const parent = edge.source === base.id ? base : down.walked.get(edge.source);
      return parent ? [parent] : [];
    });
    if (parents.length === 0) continue;
    const parentKind = otherKind(group.kind);
    const frontier = frontierOf(
      parents.filter((parent) => !parent.group),
      parents.filter((parent) => parent.group),
    );
    const links = await selectRows<{ src: string; dst: string }>(
      db,
      sql`select distinct e.src, e.dst from (${edgesFrom(frontier, parentKind, "down", asOf)}) e
        where e.dst = any(${idList(candidates.map((node) => node.id))})`,
    );
    if (links.length === 0) continue;
    const shownUpstream = new Set(links.map((link) => link.dst));
    for (const link of links) addEdge(down, link.src, link.dst, parentKind);
    members.count -= shownUpstream.size;
    if (members.count === 0) {
      down.walked.delete(group.id);
      continue;
    }
    members.firstMembers = members.firstMembers.filter((member) => !shownUpstream.has(member.id));
    members.members = sql`select m.id from (${members.members}) m where not (m.id = any(${idList(shownUpstream)}))`;
    await keepEdgesTheGroupStillHas(db, group, down, edges, asOf);
  }
}

/** The group's edges to fetched nodes, checked again against its members (some left it). */
async function keepEdgesTheGroupStillHas(
  db: Db,
  group: WalkedNode,
  down: Side,
  edges: Map<string, WalkedEdge>,
  asOf: Date | undefined,
): Promise<void> {
  const outgoing = [...edges.values()].filter(
    (edge) => edge.source === group.id && !down.walked.get(edge.target)?.group,
  );
  if (outgoing.length === 0 || !group.group) return;
  const frontier = frontierOf([], [group]);
  const kept = await selectRows<{ dst: string }>(
    db,
    sql`select distinct e.dst from (${edgesFrom(frontier, group.kind, "down", asOf)}) e
      where e.dst = any(${idList(outgoing.map((edge) => edge.target))})`,
  );
  const still = new Set(kept.map((row) => row.dst));
  for (const edge of outgoing) if (!still.has(edge.target)) edges.delete(`${edge.source}>${edge.target}`);
}

/** Which of the hub's shortcuts (hub-hops.ts) answers a side's hop exactly as `hopQuery` would, if one does. */
type Shortcut =
  | { kind: "consumers"; from: string }
  | { kind: "loggedBy"; group: WalkedNode; origin: ConsumersOf }
  | undefined;

function shortcutOf(side: Side, base: WalkedNode, frontierKind: WalkedKind, cap: number): Shortcut {
  const from = wholeConsumersSource(side, base, frontierKind, cap);
  if (from) return { kind: "consumers", from };
  const loggedBy = consumersGroupOrigin(side);
  return loggedBy ? { kind: "loggedBy", ...loggedBy } : undefined;
}

/** The hop query of one side: its shortcut where it has one, else `hopQuery`. */
function sideHopQuery(
  side: Side,
  frontier: SQL,
  frontierKind: WalkedKind,
  shortcut: Shortcut,
  { asOf, cap, visible }: { asOf: Date | undefined; cap: number; visible: SQL | undefined },
): SQL {
  // The general query cannot check a grouped layer's projects: for a reader who does not see all, it fetches.
  const otherwise = hopQuery(side, frontier, frontierKind, asOf, visible ? NO_CAP : cap);
  if (!shortcut) return otherwise;
  const dir = sql.raw(`'${side.direction}'::text`);
  const options = { asOf, cap, visible, otherwise };
  return shortcut.kind === "consumers"
    ? consumersHop(dir, shortcut.from, options)
    : loggedByConsumersHop(dir, shortcut.group, shortcut.origin, idList(side.seen), options);
}

/**
 * The one fetched version whose consumers make this downstream hop's layer, when a group of them by job type
 * is every consumer of that type: no run is seen on this side yet, so none is left out.
 */
function wholeConsumersSource(side: Side, base: WalkedNode, frontierKind: WalkedKind, cap: number): string | undefined {
  if (cap === NO_CAP || side.direction !== "down" || frontierKind !== "version") return undefined;
  if (side.frontier.length !== 1 || side.groups.length > 0) return undefined;
  const kindOf = (id: string) => (id === base.id ? base.kind : side.walked.get(id)?.kind);
  if ([...side.seen].some((id) => kindOf(id) === "run")) return undefined;
  return side.frontier[0]?.id;
}

/** The frontier's only group, when it holds every consumer of one version with its job type. */
function consumersGroupOrigin(side: Side): { group: WalkedNode; origin: ConsumersOf } | undefined {
  if (side.direction !== "down" || side.frontier.length > 0 || side.groups.length !== 1) return undefined;
  const group = side.groups[0] as WalkedNode;
  const origin = side.consumersOf.get(group.id);
  return origin ? { group, origin } : undefined;
}

/** `select id, ident`: fetched nodes (each its own identity) and the members of groups (the group's identity). */
function frontierOf(fetched: WalkedNode[], groups: WalkedNode[]): SQL {
  const parts: SQL[] = [];
  if (fetched.length > 0) {
    const ids = idList(fetched.map((node) => node.id));
    parts.push(sql`select unnest(${ids}) as id, unnest(${ids}) as ident`);
  }
  for (const group of groups)
    parts.push(
      sql`select m.id, ${group.id}::text as ident from (${group.group?.members ?? sql`select null::text as id where false`}) m`,
    );
  return sql.join(parts, sql` union all `);
}

/** One direction of one hop: its edges if the layer is small, else its groups, their parents and first members. */
function hopQuery(side: Side, frontier: SQL, frontierKind: WalkedKind, asOf: Date | undefined, cap: number): SQL {
  const dir = sql.raw(`'${side.direction}'::text`);
  const seen = idList(side.seen);
  const step = edgesFrom(frontier, frontierKind, side.direction, asOf);
  const label = labelOf(otherKind(frontierKind), "x.dst");
  return sql`
    with step as (${step}),
    seen(id) as (select unnest(${seen})),
    marked as (select s.*, not exists (select 1 from seen where seen.id = s.dst) as fresh from step s),
    measure as (select count(*)::int as total from (select distinct dst from marked where fresh) d)
    select ${dir} as dir, 'edge'::text as what, x.src, x.dst, x.type, x.generated, ${label.label} as label,
      x.fresh, null::int as total
    from marked x ${label.join}
    where not x.fresh or (select total from measure) <= ${cap}
    union all
    select ${dir}, 'group', null, null, type, generated, null, null, count(*)::int
    from (select distinct dst, type, generated from marked where fresh) d
    where (select total from measure) > ${cap} group by type, generated
    union all
    select ${dir}, 'parent', src, null, type, generated, null, null, null
    from marked where fresh and (select total from measure) > ${cap} group by src, type, generated
    union all
    select ${dir}, 'first', null, x.dst, x.type, x.generated, ${label.label}, null, null
    from (
      select dst, type, generated, row_number() over (partition by type, generated order by dst) as n
      from (select distinct dst, type, generated from marked where fresh) d
      where (select total from measure) > ${cap}
    ) x ${label.join}
    where x.n <= ${FIRST_MEMBERS}`;
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
  const walked = [...graph.nodes.values()].filter((node) => node.id !== graph.base.id && !node.group);
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
async function selectLabels(
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
