/**
 * Clustering of large hop layers in the database. When the walk measures a layer too large to fetch, this
 * layer and every farther one in its direction are grouped in SQL exactly as `clusterGraph` groups them in
 * memory (kind, type, side, and the identities of the neighbours towards the base), so only groups, their
 * first members, the nodes left unclustered and the edges between identities come back. Cluster ids are the
 * same hash of the same key bytes. It never guesses: if the layers hold anything the in-memory path would
 * treat differently (an edge back into walked nodes, a node also walked the other way, a hidden node), it
 * answers `undefined` and the caller fetches everything instead.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, selectRows } from "../db/client";
import { type Cluster, FIRST_MEMBERS } from "./clusters";
import {
  committed,
  type DeferredStart,
  idList,
  layerEdges,
  nodeColumns,
  otherKind,
  type WalkedEdge,
  type WalkedKind,
  type WalkedNode,
} from "./walk";

export interface DeferredClusterOptions {
  /** Hops walked in the start's direction. */
  hops: number;
  clusterMin: number;
  pull: string[];
  maxNodes: number;
  includeGenerated: boolean;
  /** Every node the other direction walked: none of them may appear here. */
  otherIds: string[];
  asOf: Date | undefined;
}

export interface DeferredLayers {
  nodes: WalkedNode[];
  clusters: Cluster[];
  edges: WalkedEdge[];
  /** The first hop layer with more unclustered nodes than maxNodes: cutAtLayers drops it and all farther. */
  cutFrom?: number;
}

interface LayerRow {
  layer: number;
  what: "flags" | "cluster" | "node" | "edge";
  id: string | null;
  type: string | null;
  label: string | null;
  generated: boolean | null;
  total: number | null;
  first: [string, string][] | null;
  src: string | null;
  dst: string | null;
  fallback: boolean | null;
}

const NUL = sql`decode('00', 'hex')`;
const FEW_CLUSTERS = 8;
const utf8 = (text: SQL) => sql`convert_to(${text}, 'UTF8')`;

interface Chain {
  ctes: SQL;
  layers: { name: number; hop: number; kind: WalkedKind }[];
}

/**
 * CTEs p1 … pN, one per deferred layer (N = hops − start.hop + 1), each row a node with `ident` (its cluster id,
 * or its own id), `cluster` (its group's id), `parents` (identities towards the base), `label`, `type` and
 * `generated`; e1 … eN the edges into each layer. p0 is the fetched frontier with its identities from the in-memory clustering.
 */
function deferredChain(start: DeferredStart, identity: Map<string, string>, options: DeferredClusterOptions): Chain {
  const frontierIds = start.frontier.map((node) => node.id);
  const parts: SQL[] = [
    sql`p0(id, ident) as (select unnest(${idList(frontierIds)}), unnest(${idList(
      frontierIds.map((id) => identity.get(id) ?? id),
    )}))`,
  ];
  const side = start.direction === "up" ? "-1" : "1";
  const pull = idList(options.pull);
  const pulled = options.pull.length > 0;
  const layers: Chain["layers"] = [];
  let kind = (start.frontier[0] as WalkedNode).kind;
  for (let hop = start.hop, k = 1; hop <= options.hops; hop++, k++) {
    const previous = `p${k - 1}`;
    kind = otherKind(kind);
    const columns = nodeColumns(kind, "e.dst");
    const [e, a, g, p] = ["e", "a", "g", "p"].map((name) => sql.raw(`${name}${k}`)) as [SQL, SQL, SQL, SQL];
    // Every CTE reads only the one before it (no join between two CTEs: the planner cannot size them).
    parts.push(
      sql`${e} as (${layerEdges(previous, otherKind(kind), start.direction, options.asOf, { carry: "ident", uncommitted: true })})`,
      // Hash-aggregated (no ordered aggregate): most nodes have one parent, the rest sort their few parents.
      sql`${a} as (
        select id, type, label, generated, parents,
          ${utf8(sql`${kind}::text`)} || ${NUL} || ${utf8(sql`type`)} || ${NUL} || ${utf8(sql`${side}::text`)}
            || ${NUL} || ${NUL} || case when cardinality(parents) = 1 then ${utf8(sql`parents[1]`)} else (
              select string_agg(${utf8(sql`parent`)}, ${NUL} order by ${utf8(sql`parent`)})
              from (select distinct unnest(parents) as parent) distinct_parents) end as key
        from (
          select e.dst as id, ${columns.type} as type, ${columns.label} as label, ${columns.generated} as generated,
            array_agg(e.src_ident) as parents
          from ${e} e ${columns.join}
          ${kind === "version" ? sql`where ${committed(options.asOf)}` : sql``}
          group by 1, 2, 3, 4
        ) nodes)`,
      sql`${g} as (
        select key, min(type) as type, count(*) as total,
          ${pulled ? sql`count(*) filter (where id = any(${pull}))` : sql`0`} as pulled,
          'cl_' || left(encode(sha256(key), 'hex'), 16) as cluster
        from ${a} group by key)`,
      sql`${p} as (
        select a.id, a.type, a.label, a.generated, a.parents, g.cluster, g.total, g.pulled,
          case when g.total >= ${options.clusterMin} ${pulled ? sql`and not (a.id = any(${pull}))` : sql``}
            then g.cluster else a.id end as ident
        from ${a} a join ${g} g on g.key = a.key)`,
    );
    layers.push({ name: k, hop, kind });
  }
  return { ctes: sql.join(parts, sql`,\n`), layers };
}

export async function clusterDeferredLayers(
  db: Db,
  start: DeferredStart,
  identity: Map<string, string>,
  options: DeferredClusterOptions,
): Promise<DeferredLayers | undefined> {
  const chain = deferredChain(start, identity, options);
  const pull = idList(options.pull);
  const pulled = options.pull.length > 0;
  const walked = idList([...start.seen, ...options.otherIds]);
  const selects: SQL[] = [];
  const fallbacks: SQL[] = [];
  for (const { name: k, kind } of chain.layers) {
    const [e, g, p] = ["e", "g", "p"].map((name) => sql.raw(`${name}${k}`)) as [SQL, SQL, SQL];
    const clustered = sql`g.total >= ${options.clusterMin} and g.total > g.pulled`;
    const clusterCount = sql`(select count(*) from ${g} g where ${clustered})`;
    const over = sql`(select count(*) from ${p} where ident = id) > ${options.maxNodes}`;
    // A layer reaching back into walked nodes, or into an earlier deferred layer of its kind, is not a plain layer.
    const earlier = chain.layers
      .filter((layer) => layer.name < k && layer.kind === kind)
      .map((layer) => sql` or exists (select 1 from ${sql.raw(`p${layer.name}`)} r where r.id = e.dst)`);
    fallbacks.push(sql`exists (select 1 from ${e} e where e.dst = any(${walked}) ${sql.join(earlier, sql``)})`);
    if (kind === "version" && !options.includeGenerated)
      fallbacks.push(sql`exists (select 1 from ${p} where generated)`);
    selects.push(
      // First members: a top-5 scan per cluster when a layer has few clusters, else one ranking of them all.
      // label carries how many members were pulled out.
      sql`select ${sql.raw(String(k))}::int as layer, 'cluster'::text as what, g.cluster as id, g.type,
          g.pulled::text as label, null::boolean as generated, (g.total - g.pulled)::int as total, top.first,
          null::text as src, null::text as dst, null::boolean as fallback
        from ${g} g cross join lateral (
          select json_agg(json_build_array(id, label) order by label collate "C", id) as first
          from (select id, label from ${p} p where p.ident = g.cluster
            order by label collate "C", id limit ${FIRST_MEMBERS}) members
        ) top
        where ${clustered} and ${clusterCount} <= ${FEW_CLUSTERS}`,
      sql`select ${sql.raw(String(k))}, 'cluster', ident, min(type), max(pulled)::text, null, (max(total) - max(pulled))::int,
          json_agg(json_build_array(id, label) order by label collate "C", id) filter (where n <= ${FIRST_MEMBERS}),
          null, null, null
        from (select ident, id, label, type, total, pulled,
            row_number() over (partition by ident order by label collate "C", id) as n
          from ${p} where ident <> id and ${clusterCount} > ${FEW_CLUSTERS}) ranked
        group by ident`,
      // A pulled member names (as src) the cluster it came out of.
      sql`select ${sql.raw(String(k))}, 'node', id, type, label, generated, null, null,
          case when total >= ${options.clusterMin} and total > pulled and ${pulled ? sql`id = any(${pull})` : sql`false`}
            then cluster end, null, null
        from ${p} where ident = id and not ${over}`,
      sql`select ${sql.raw(String(k))}, 'edge', null, null, null, null::boolean, null::int, null::json, src, dst, null::boolean
        from (select distinct unnest(parents) as src, ident as dst from ${p} where not ${over}) edges`,
      sql`select ${sql.raw(String(k))}, 'flags', null, null, null, null, (select count(*) from ${p} where ident = id)::int, null,
        null, null, false`,
    );
  }
  const rows = await selectRows<LayerRow>(
    db,
    sql`with ${chain.ctes}
    select 0 as layer, 'flags' as what, null as id, null as type, null as label, null::boolean as generated,
      null::int as total, null::json as first, null as src, null as dst, (${sql.join(fallbacks, sql` or `)}) as fallback
    union all ${sql.join(selects, sql`\nunion all `)}`,
  );
  if (rows.some((row) => row.what === "flags" && row.fallback)) return undefined;

  const sign = start.direction === "up" ? -1 : 1;
  const layerOf = new Map(chain.layers.map((layer) => [layer.name, layer]));
  const result: DeferredLayers = { nodes: [], clusters: [], edges: [] };
  let cutFrom = Number.POSITIVE_INFINITY;
  for (const row of rows) {
    const layer = layerOf.get(Number(row.layer));
    if (!layer) continue;
    const depth = sign * layer.hop;
    if (row.what === "flags" && Number(row.total) > options.maxNodes) cutFrom = Math.min(cutFrom, layer.hop);
    if (row.what === "node") {
      result.nodes.push({
        id: row.id as string,
        kind: layer.kind,
        depth,
        type: row.type as string,
        label: row.label as string,
        generated: row.generated === true,
        ...(row.src ? { cluster: row.src } : {}),
      });
    }
    if (row.what === "edge") {
      const [source, target] = start.direction === "down" ? [row.src, row.dst] : [row.dst, row.src];
      const sourceKind = start.direction === "down" ? otherKind(layer.kind) : layer.kind;
      result.edges.push({
        source: source as string,
        target: target as string,
        kind: sourceKind === "version" ? "input" : "output",
      });
    }
    if (row.what === "cluster") {
      const type = row.type as string;
      const node = ([id, label]: [string, string]): WalkedNode => ({
        id,
        kind: layer.kind,
        depth,
        type,
        label,
        generated: false,
      });
      result.clusters.push({
        id: row.id as string,
        memberKind: layer.kind,
        type,
        depth,
        extended: false,
        memberCount: Number(row.total),
        shownMembers: Number(row.label ?? 0),
        reason: "similar",
        firstMembers: (row.first ?? []).map(node),
        listMembers: (page) => listDeferredMembers(db, chain, layer.name, row.id as string, page, node),
      });
    }
  }
  // Cluster rows carry no generated flag: a hidden one made the whole answer fall back above.
  return Number.isFinite(cutFrom) ? { ...result, cutFrom } : result;
}

async function listDeferredMembers(
  db: Db,
  chain: Chain,
  layer: number,
  clusterId: string,
  page: { q?: string | undefined; limit: number; offset: number },
  node: (member: [string, string]) => WalkedNode,
) {
  const p = sql.raw(`p${layer}`);
  const search = page.q ? sql`and strpos(lower(label), lower(${page.q})) > 0` : sql``;
  const rows = await selectRows<{ id: string; label: string; total: number }>(
    db,
    sql`with ${chain.ctes}
    select id, label, count(*) over ()::int as total from ${p} where ident = ${clusterId} ${search}
    order by label collate "C", id limit ${page.limit} offset ${page.offset}`,
  );
  let total = Number(rows[0]?.total ?? 0);
  if (rows.length === 0 && page.offset > 0) {
    const [count] = await selectRows<{ total: number }>(
      db,
      sql`with ${chain.ctes} select count(*)::int as total from ${p} where ident = ${clusterId} ${search}`,
    );
    total = Number(count?.total ?? 0);
  }
  return { total, members: rows.map((row) => node([row.id, row.label])) };
}
