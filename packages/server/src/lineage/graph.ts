/**
 * A lineage query from its options to its answer: resolve the base, walk, add siblings, hide filtered
 * nodes, cluster, cut at maxNodes, summarize. Knows nothing of HTTP.
 */
import type { ClusterMembers, ClusterNode, LineageGraph, LineageNode, LineageQuery } from "@pedigree/protocol";
import type { Db } from "../db/client";
import { notFound } from "../errors";
import { resolveBaseNode } from "./base";
import { type Cluster, clusterGraph, distancesFromBase, isCluster } from "./clusters";
import { cutAtLayers } from "./cut";
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
  const shaped = await shapeLineage(db, project, query, options);
  const cut = cutAtLayers(shaped.nodes, shaped.edges, query.maxNodes, shaped.cutFrom);
  const walked = cut.nodes.flatMap((node) => (isCluster(node) ? [] : [node]));
  const summaries = await summarizeNodes(db, walked, query.asOf ? new Date(query.asOf) : undefined);
  const nodes = cut.nodes.flatMap((node): LineageNode[] => {
    if (isCluster(node)) return [clusterNode(node)];
    const summary = summaries.get(node.id);
    return summary ? [summary] : [];
  });
  return { base: shaped.base.id, nodes, edges: cut.edges, truncated: cut.truncated };
}

/** The members of one cluster of the graph the same options describe, searchable by name and paged. */
export async function listClusterMembers(
  db: Db,
  project: string,
  clusterId: string,
  query: LineageQuery & { q?: string | undefined; limit: number; offset: number },
  options: ShapeOptions,
): Promise<ClusterMembers> {
  const shaped = await shapeLineage(db, project, query, options);
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
  /** Hop layers the walk left out because maxNodes certainly cuts them. */
  cutFrom?: number | undefined;
}

async function shapeLineage(db: Db, project: string, query: LineageQuery, options: ShapeOptions): Promise<ShapedGraph> {
  const asOf = query.asOf ? new Date(query.asOf) : undefined;
  const { visibility } = options;
  const base = await resolveBaseNode(db, project, query, { reader: visibility.reader, asOf, field: "node" });
  const walkOptions = { upstream: query.upstream, downstream: query.downstream, asOf };
  if (query.expandClusters || query.extended || query.artifactTypes || query.jobTypes) {
    // Without siblings or clusters, a layer's shown nodes are its count in the answer: the walk can stop at maxNodes.
    const budget = query.expandClusters && !query.extended ? { maxNodes: query.maxNodes, filter: query } : undefined;
    const walk = await walkLineage(db, base, {
      ...walkOptions,
      ...(budget ? { largeLayer: query.maxNodes + 1, budget } : {}),
    });
    let graph: WalkedGraph = await keepVisibleNodes(db, walk, project, visibility);
    if (query.extended) graph = addSiblings(graph, await selectSiblings(db, graph, asOf));
    graph = hideFilteredNodes(graph, query);
    if (query.expandClusters) {
      return {
        base,
        nodes: [...graph.nodes.values()],
        edges: graph.edges,
        clusters: new Map<string, Cluster>(),
        cutFrom: walk.cutFrom,
      };
    }
    return clusterGraph(graph, { clusterMin: query.clusterMin, pull: new Set(query.pull ?? []) });
  }
  const clusterOptions = { clusterMin: query.clusterMin, pull: new Set(query.pull ?? []) };
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
  options: { clusterMin: number; pull: Set<string> },
): Promise<ShapedGraph | undefined> {
  if ([...walk.nodes.values()].some((node) => node.id !== walk.base.id && !isShown(node, query))) return undefined;
  const distances = distancesFromBase(walk);
  if ([...walk.nodes.values()].some((node) => distances.get(node.id) !== Math.abs(node.depth))) return undefined;
  const shaped = clusterGraph(walk, options);
  let cutFrom: number | undefined;
  for (const start of walk.deferred) {
    const otherIds = [...walk.nodes.values()]
      .filter((node) => Math.sign(node.depth) === (start.direction === "up" ? 1 : -1))
      .map((node) => node.id);
    const layers = await clusterDeferredLayers(db, start, shaped.identity, {
      hops: start.direction === "up" ? query.upstream : query.downstream,
      clusterMin: query.clusterMin,
      pull: [...options.pull],
      maxNodes: query.maxNodes,
      includeGenerated: query.includeGenerated,
      otherIds,
      asOf: query.asOf ? new Date(query.asOf) : undefined,
    });
    if (!layers) return undefined;
    shaped.nodes.push(...layers.nodes, ...layers.clusters);
    shaped.edges.push(...layers.edges);
    for (const cluster of layers.clusters) shaped.clusters.set(cluster.id, cluster);
    if (layers.cutFrom !== undefined) cutFrom = Math.min(cutFrom ?? layers.cutFrom, layers.cutFrom);
  }
  return { ...shaped, cutFrom };
}

function clusterNode(cluster: Cluster): ClusterNode {
  return {
    id: cluster.id,
    kind: "cluster",
    depth: cluster.depth,
    memberKind: cluster.memberKind,
    type: cluster.type,
    memberCount: cluster.memberCount,
    firstMembers: cluster.firstMembers.map((node: WalkedNode) => ({ id: node.id, name: node.label })),
    ...(cluster.extended ? { extended: true } : {}),
  };
}
