/**
 * A lineage query from its options to its answer: resolve the base, walk, add siblings, hide filtered
 * nodes, cluster, cut at maxNodes, summarize. Knows nothing of HTTP.
 */
import type { ClusterMembers, ClusterNode, LineageGraph, LineageNode, LineageQuery } from "@pedigree/protocol";
import type { Db } from "../db/client";
import { notFound } from "../errors";
import { resolveBaseNode } from "./base";
import { type Cluster, clusterGraph, firstMembers, isCluster } from "./clusters";
import { cutAtLayers } from "./cut";
import { addSiblings } from "./extended";
import { hideFilteredNodes } from "./filters";
import { summarizeNodes } from "./summaries";
import { selectSiblings, type WalkedGraph, type WalkedNode, walkLineage } from "./walk";

const FIRST_MEMBERS = 5;

export async function getLineage(db: Db, project: string, query: LineageQuery): Promise<LineageGraph> {
  const shaped = await shapeLineage(db, project, query);
  const cut = cutAtLayers(shaped.nodes, shaped.edges, query.maxNodes);
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
): Promise<ClusterMembers> {
  const shaped = await shapeLineage(db, project, query);
  const cluster = shaped.clusters.get(clusterId);
  if (!cluster) throw notFound(`cluster '${clusterId}' in this lineage graph`, "clusterId");
  const needle = query.q?.toLowerCase();
  const matching = (
    needle ? cluster.members.filter((node) => node.label.toLowerCase().includes(needle)) : cluster.members
  )
    .slice()
    .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.id < b.id ? -1 : 1));
  const page = matching.slice(query.offset, query.offset + query.limit);
  const summaries = await summarizeNodes(db, page, query.asOf ? new Date(query.asOf) : undefined);
  return {
    cluster: clusterId,
    total: matching.length,
    members: page.flatMap((node) => summaries.get(node.id) ?? []),
  };
}

async function shapeLineage(db: Db, project: string, query: LineageQuery) {
  const asOf = query.asOf ? new Date(query.asOf) : undefined;
  const base = await resolveBaseNode(db, project, query.node, { asOf, field: "node" });
  let graph: WalkedGraph = await walkLineage(db, base, {
    upstream: query.upstream,
    downstream: query.downstream,
    asOf,
  });
  if (query.extended) graph = addSiblings(graph, await selectSiblings(db, graph, asOf));
  graph = hideFilteredNodes(graph, query);
  if (query.expandClusters) {
    return { base, nodes: [...graph.nodes.values()], edges: graph.edges, clusters: new Map<string, Cluster>() };
  }
  return clusterGraph(graph, { clusterMin: query.clusterMin, pull: new Set(query.pull ?? []) });
}

function clusterNode(cluster: Cluster): ClusterNode {
  return {
    id: cluster.id,
    kind: "cluster",
    depth: cluster.depth,
    memberKind: cluster.memberKind,
    type: cluster.type,
    memberCount: cluster.members.length,
    firstMembers: firstMembers(cluster, FIRST_MEMBERS).map((node: WalkedNode) => ({ id: node.id, name: node.label })),
    ...(cluster.extended ? { extended: true } : {}),
  };
}
