/**
 * A lineage query from its options to its answer: resolve the base, walk, add siblings, hide filtered
 * nodes, cluster, cut at maxNodes, summarize. Knows nothing of HTTP.
 */
import type { ClusterMembers, ClusterNode, LineageGraph, LineageNode, LineageQuery } from "@pedigree/protocol";
import type { Db } from "../db/client";
import { notFound } from "../errors";
import { resolveBaseNode } from "./base";
import { fitBudget } from "./budget";
import { type Cluster, type ClusterOptions, clusterGraph, distancesFromBase, isCluster } from "./clusters";
import { addSiblings } from "./extended";
import { hideFilteredNodes, isShown } from "./filters";
import { clusterDeferredLayers } from "./layer-clusters";
import { summarizeNodes } from "./summaries";
import { keepVisibleNodes, type ProjectVisibility } from "./visibility";
import {
  type LayeredWalk,
  selectSiblings,
  type WalkedEdge,
  type WalkedGraph,
  type WalkedNode,
  walkLineage,
} from "./walk";

export async function getLineage(
  db: Db,
  project: string,
  query: LineageQuery,
  options: ShapeOptions,
): Promise<LineageGraph> {
  const fitted = await fittedLineage(db, project, query, options);
  const walked = fitted.nodes.flatMap((node) => (isCluster(node) ? [] : [node]));
  const summaries = await summarizeNodes(db, walked, query.asOf ? new Date(query.asOf) : undefined);
  const nodes = fitted.nodes.flatMap((node): LineageNode[] => {
    if (isCluster(node)) return [clusterNode(node)];
    const summary = summaries.get(node.id);
    if (!summary) return [];
    return [node.cluster ? { ...summary, cluster: node.cluster } : summary];
  });
  return { base: fitted.base.id, nodes, edges: fitted.edges, truncated: fitted.truncated };
}

/** The shaped graph fitted into `maxNodes`, with every cluster it shows (similar and budget ones). */
async function fittedLineage(db: Db, project: string, query: LineageQuery, options: ShapeOptions) {
  const shaped = await shapeLineage(db, project, query, options);
  const expanded = new Map((query.expand ?? []).map(({ cluster, count }) => [cluster, count]));
  const fitted = fitBudget(shaped.base, shaped.nodes, shaped.edges, query.maxNodes, expanded);
  const clusters = new Map([...shaped.clusters, ...fitted.clusters]);
  return { base: shaped.base, ...fitted, clusters };
}

/** The members of one cluster of the graph the same options describe, searchable by name and paged. */
export async function listClusterMembers(
  db: Db,
  project: string,
  clusterId: string,
  query: LineageQuery & { q?: string | undefined; limit: number; offset: number },
  options: ShapeOptions,
): Promise<ClusterMembers> {
  const shaped = await fittedLineage(db, project, query, options);
  const cluster = shaped.clusters.get(clusterId);
  if (!cluster) throw notFound(`cluster '${clusterId}' in this lineage graph`, "clusterId");
  const page = await cluster.listMembers({ q: query.q, limit: query.limit, offset: query.offset });
  const summaries = await summarizeNodes(db, page.members, query.asOf ? new Date(query.asOf) : undefined);
  return {
    cluster: clusterId,
    total: page.total,
    members: page.members.flatMap((node) => summaries.get(node.id) ?? []),
  };
}

/** Layers larger than this, with clusters on, are clustered in the database instead of fetched. */
export const LARGE_LAYER = 2_000;

export interface ShapeOptions {
  /** Overrides LARGE_LAYER (tests take the database path on small graphs with it). */
  largeLayer?: number;
  /** Who reads, and the projects it can see; other projects' nodes are left out. */
  visibility: ProjectVisibility;
}

interface ShapedGraph {
  base: WalkedNode;
  nodes: (WalkedNode | Cluster)[];
  edges: WalkedEdge[];
  clusters: Map<string, Cluster>;
}

async function shapeLineage(db: Db, project: string, query: LineageQuery, options: ShapeOptions): Promise<ShapedGraph> {
  const asOf = query.asOf ? new Date(query.asOf) : undefined;
  const { visibility } = options;
  const base = await resolveBaseNode(db, project, query.node, { reader: visibility.reader, asOf, field: "node" });
  const walkOptions = { upstream: query.upstream, downstream: query.downstream, asOf };
  const clusterOptions = {
    clusterMin: query.clusterMin,
    pull: new Set(query.pull ?? []),
    expand: new Map((query.expand ?? []).map(({ cluster, count }) => [cluster, count])),
  };
  if (query.expandClusters || query.extended || query.artifactTypes || query.jobTypes) {
    const walk = await walkLineage(db, base, walkOptions);
    let graph: WalkedGraph = await keepVisibleNodes(db, walk, project, visibility);
    if (query.extended) graph = addSiblings(graph, await selectSiblings(db, graph, asOf));
    graph = hideFilteredNodes(graph, query);
    if (query.expandClusters) {
      return {
        base,
        nodes: [...graph.nodes.values()],
        edges: graph.edges,
        clusters: new Map<string, Cluster>(),
      };
    }
    return clusterGraph(graph, clusterOptions);
  }
  // Layers clustered in the database are never fetched, so they cannot be checked project by project: a reader
  // who does not see every project takes the in-memory path.
  const largeLayer = visibility.all ? (options.largeLayer ?? LARGE_LAYER) : undefined;
  const walk = await walkLineage(db, base, largeLayer === undefined ? walkOptions : { ...walkOptions, largeLayer });
  if (walk.deferred.length > 0) {
    const shaped = await clusterWithDeferredLayers(db, walk, query, clusterOptions);
    if (shaped) return shaped;
  }
  const graph = walk.deferred.length > 0 ? await walkLineage(db, base, walkOptions) : walk;
  return clusterGraph(hideFilteredNodes(await keepVisibleNodes(db, graph, project, visibility), query), clusterOptions);
}

/**
 * Clusters the fetched layers in memory and the large ones in the database, or answers undefined when the
 * graph is not plain enough for the two to agree with clustering everything in memory (hidden nodes, or
 * nodes whose distance from the base is not their hop).
 */
async function clusterWithDeferredLayers(
  db: Db,
  walk: LayeredWalk,
  query: LineageQuery,
  options: ClusterOptions,
): Promise<ShapedGraph | undefined> {
  if ([...walk.nodes.values()].some((node) => node.id !== walk.base.id && !isShown(node, query))) return undefined;
  const distances = distancesFromBase(walk);
  if ([...walk.nodes.values()].some((node) => distances.get(node.id) !== Math.abs(node.depth))) return undefined;
  const shaped = clusterGraph(walk, options);
  for (const start of walk.deferred) {
    const otherIds = [...walk.nodes.values()]
      .filter((node) => Math.sign(node.depth) === (start.direction === "up" ? 1 : -1))
      .map((node) => node.id);
    const layers = await clusterDeferredLayers(db, start, shaped.identity, {
      hops: start.direction === "up" ? query.upstream : query.downstream,
      clusterMin: query.clusterMin,
      pull: [...options.pull],
      // Nothing is dropped here: fitBudget clusters what does not fit.
      maxNodes: Number.MAX_SAFE_INTEGER,
      includeGenerated: query.includeGenerated,
      otherIds,
      asOf: query.asOf ? new Date(query.asOf) : undefined,
    });
    if (!layers) return undefined;
    shaped.nodes.push(...layers.nodes, ...layers.clusters);
    shaped.edges.push(...layers.edges);
    for (const cluster of layers.clusters) shaped.clusters.set(cluster.id, cluster);
  }
  return shaped;
}

function clusterNode(cluster: Cluster): ClusterNode {
  return {
    id: cluster.id,
    kind: "cluster",
    depth: cluster.depth,
    memberKind: cluster.memberKind,
    type: cluster.type,
    memberCount: cluster.memberCount,
    shownMembers: cluster.shownMembers,
    reason: cluster.reason,
    firstMembers: cluster.firstMembers.map((node: WalkedNode) => ({ id: node.id, name: node.label })),
    ...(cluster.extended ? { extended: true } : {}),
  };
}
