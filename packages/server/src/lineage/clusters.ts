/**
 * Clustering, layer by layer outward from the base: nodes of the same kind and type (and side, and extended
 * flag) whose neighbours towards the base are the same, after those neighbours are themselves clustered,
 * become one cluster once there are `clusterMin` of them. A cluster id is a hash of that description, so
 * the same query names the same cluster again (for its member list) as long as the graph is unchanged.
 */
import { createHash } from "node:crypto";
import type { WalkedEdge, WalkedGraph, WalkedKind, WalkedNode } from "./walk";

export interface Cluster {
  id: string;
  memberKind: WalkedKind;
  type: string;
  depth: number;
  extended: boolean;
  members: WalkedNode[];
}

export interface ClusteredGraph {
  base: WalkedNode;
  nodes: (WalkedNode | Cluster)[];
  edges: WalkedEdge[];
  clusters: Map<string, Cluster>;
}

export const isCluster = (node: WalkedNode | Cluster): node is Cluster => "members" in node;

export function clusterGraph(graph: WalkedGraph, options: { clusterMin: number; pull: Set<string> }): ClusteredGraph {
  const neighbours = new Map<string, string[]>();
  const link = (from: string, to: string) => {
    const list = neighbours.get(from);
    if (list) list.push(to);
    else neighbours.set(from, [to]);
  };
  for (const edge of graph.edges) {
    link(edge.source, edge.target);
    link(edge.target, edge.source);
  }

  // Layers are distances from the base over the shown edges, so hidden joins and siblings fall in place.
  const distance = new Map<string, number>([[graph.base.id, 0]]);
  const layers: string[][] = [[graph.base.id]];
  for (let layer = layers[0] as string[]; layer.length > 0; ) {
    const next: string[] = [];
    for (const id of layer) {
      for (const neighbour of neighbours.get(id) ?? []) {
        if (distance.has(neighbour)) continue;
        distance.set(neighbour, layers.length);
        next.push(neighbour);
      }
    }
    if (next.length > 0) layers.push(next);
    layer = next;
  }

  const identity = new Map<string, string>();
  const clusters = new Map<string, Cluster>();
  for (const [index, layer] of layers.entries()) {
    const groups = new Map<string, WalkedNode[]>();
    for (const id of layer) {
      const node = graph.nodes.get(id);
      if (!node) continue;
      if (index === 0) continue;
      const towardsBase = new Set<string>();
      for (const neighbour of neighbours.get(id) ?? []) {
        if ((distance.get(neighbour) ?? index) < index) towardsBase.add(identity.get(neighbour) ?? neighbour);
      }
      const side = Math.sign(node.depth);
      const key = [node.kind, node.type, side, node.extended ? "x" : "", ...[...towardsBase].sort()].join("\u0000");
      const group = groups.get(key);
      if (group) group.push(node);
      else groups.set(key, [node]);
    }
    for (const [key, group] of groups) {
      if (group.length < options.clusterMin) continue;
      const members = group.filter((node) => !options.pull.has(node.id));
      if (members.length === 0) continue;
      const first = group[0] as WalkedNode;
      const cluster: Cluster = {
        id: `cl_${createHash("sha256").update(key).digest("hex").slice(0, 16)}`,
        memberKind: first.kind,
        type: first.type,
        depth: Math.sign(first.depth) * Math.min(...members.map((node) => Math.abs(node.depth))),
        extended: first.extended === true,
        members,
      };
      clusters.set(cluster.id, cluster);
      for (const node of members) identity.set(node.id, cluster.id);
    }
  }

  const nodes: (WalkedNode | Cluster)[] = [...graph.nodes.values()].filter((node) => !identity.has(node.id));
  nodes.push(...clusters.values());
  const edges = new Map<string, WalkedEdge>();
  for (const edge of graph.edges) {
    const source = identity.get(edge.source) ?? edge.source;
    const target = identity.get(edge.target) ?? edge.target;
    if (source === target) continue;
    const key = `${source}>${target}`;
    const existing = edges.get(key);
    // A real edge says more than a hidden one between the same two nodes.
    if (existing && (existing.kind !== "hidden" || edge.kind === "hidden")) continue;
    edges.set(key, { source, target, kind: edge.kind });
  }
  return { base: graph.base, nodes, edges: [...edges.values()], clusters };
}

/** The `count` members with the smallest labels, without sorting them all (a hub cluster has 100,000). */
export function firstMembers(cluster: Cluster, count: number): WalkedNode[] {
  const first: WalkedNode[] = [];
  for (const node of cluster.members) {
    if (first.length === count && node.label >= (first[count - 1] as WalkedNode).label) continue;
    first.push(node);
    first.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    if (first.length > count) first.pop();
  }
  return first;
}
