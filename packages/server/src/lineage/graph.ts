/**
 * A lineage query from its options to its answer: resolve the base, walk, add siblings, hide filtered
 * nodes, cluster, cut at maxNodes, summarize. Knows nothing of HTTP.
 */
import type { ClusterMembers, ClusterNode, LineageGraph, LineageNode, LineageQuery } from "@pedigree/protocol";
import type { Db } from "../db/client";
import { notFound } from "../errors";
import { resolveBaseNode } from "./base";
import { fitBudget } from "./budget";
import { type Cluster, clusterGraph, isCluster } from "./clusters";
import { addSiblings } from "./extended";
import { hideFilteredNodes } from "./filters";
import { listGroupMembers } from "./group-members";
import { type SummaryOptions, summarizeNodes } from "./summaries";
import { keepVisibleNodes, leaveOutNodes, type ProjectVisibility } from "./visibility";
import { selectSiblings, type WalkedEdge, type WalkedGraph, type WalkedNode, walkLineage } from "./walk";
import { walkSmallLineage } from "./walk-small";

export async function getLineage(
  db: Db,
  project: string,
  query: LineageQuery,
  options: ShapeOptions,
): Promise<LineageGraph> {
  const fitted = await fittedLineage(db, project, query, options);
  const walked = fitted.nodes.flatMap((node) => (isCluster(node) ? [] : [node]));
  const summaries = await summarizeNodes(db, walked, summaryOptions(query, options));
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
  const summaries = await summarizeNodes(db, page.members, summaryOptions(query, options));
  return {
    cluster: clusterId,
    total: page.total,
    members: page.members.flatMap((node) => summaries.get(node.id) ?? []),
  };
}

const summaryOptions = (query: LineageQuery, options: ShapeOptions): SummaryOptions => ({
  asOf: query.asOf ? new Date(query.asOf) : undefined,
  reader: options.visibility.reader,
});

/** Layers with more new nodes than this (or than maxNodes, if larger) are grouped in the database. */
export const LARGE_LAYER = 2_000;

export interface ShapeOptions {
  /** Overrides LARGE_LAYER (tests group small layers with it). */
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

/**
 * The one path of every lineage query: walk (large layers grouped in the database), leave out what the reader
 * cannot see, add siblings, hide filtered nodes, cluster similar nodes; `fitBudget` then fits it to maxNodes.
 */
async function shapeLineage(db: Db, project: string, query: LineageQuery, options: ShapeOptions): Promise<ShapedGraph> {
  const asOf = query.asOf ? new Date(query.asOf) : undefined;
  const { visibility } = options;
  const base = await resolveBaseNode(db, project, query, { reader: visibility.reader, asOf, field: "node" });
  // A grouped layer is never fetched, so it cannot be checked node by node: for a reader who does not see every
  // project, only a layer wholly in the projects it sees is grouped (walk.ts `visibleProjects`).
  const largeLayer = Math.max(query.maxNodes, options.largeLayer ?? LARGE_LAYER);
  const visibleProjects = visibility.all ? undefined : [...new Set([...visibility.projects, project])];
  const hops = { upstream: query.upstream, downstream: query.downstream, asOf, largeLayer, visibleProjects };
  // A walk that fits under the large-layer threshold takes one statement; a larger one, one per hop.
  const small = await walkSmallLineage(db, base, { ...hops, project, visibility });
  let graph: WalkedGraph = small
    ? leaveOutNodes(small.graph, small.unseen)
    : await keepVisibleNodes(db, await walkLineage(db, base, hops), project, visibility);
  if (query.extended) graph = addSiblings(graph, await selectSiblings(db, graph, asOf));
  graph = hideFilteredNodes(graph, query);
  const groups = [...graph.nodes.values()].filter((node) => node.group);
  const grouped = new Map(groups.map((node) => [node.id, groupCluster(db, node)]));
  if (query.expandClusters) {
    const nodes = [...graph.nodes.values()].map((node) => grouped.get(node.id) ?? node);
    return { base, nodes, edges: graph.edges, clusters: grouped };
  }
  const clustered = clusterGraph(graph, {
    clusterMin: query.clusterMin,
    pull: new Set(query.pull ?? []),
    expand: new Map((query.expand ?? []).map(({ cluster, count }) => [cluster, count])),
  });
  return {
    ...clustered,
    nodes: clustered.nodes.map((node) => (isCluster(node) ? node : (grouped.get(node.id) ?? node))),
    clusters: new Map([...clustered.clusters, ...grouped]),
  };
}

/** A group of a large layer as the budget cluster it is: counted, first members by id, members listed in SQL. */
function groupCluster(db: Db, node: WalkedNode): Cluster {
  const group = node.group as NonNullable<WalkedNode["group"]>;
  const member = (row: { id: string; label: string }): WalkedNode => ({
    id: row.id,
    kind: node.kind,
    depth: node.depth,
    type: node.type,
    label: row.label,
    generated: node.generated,
  });
  return {
    id: node.id,
    memberKind: node.kind,
    type: node.type,
    depth: node.depth,
    extended: false,
    generated: node.generated,
    memberCount: group.count,
    shownMembers: 0,
    reason: "budget",
    firstMembers: group.firstMembers.map(member),
    async listMembers(page) {
      const rows = await listGroupMembers(db, node.kind, group.members, page);
      return { total: rows.total, members: rows.members.map(member) };
    },
  };
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
