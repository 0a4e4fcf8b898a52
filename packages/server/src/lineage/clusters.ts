/**
 * Clustering, layer by layer outward from the base: nodes of the same kind and type (and side, and extended
 * flag) whose neighbours towards the base are the same, after those neighbours are themselves clustered,
 * become one cluster once there are `clusterMin` of them. A cluster id is a hash of that description, so
 * the same query names the same cluster again (for its member list) as long as the graph is unchanged.
 * Groups of large layers (walk.ts) are clusters already: they stay as they are.
 */
import { createHash } from "node:crypto";
import type { WalkedEdge, WalkedGraph, WalkedKind, WalkedNode } from "./walked-graph";

export interface ClusterMemberPage {
  total: number;
  members: WalkedNode[];
}

export interface Cluster {
  id: string;
  memberKind: WalkedKind;
  type: string;
  depth: number;
  extended: boolean;
  /** Members still in the cluster. */
  memberCount: number;
  /** Members pulled or expanded out of it, shown on their own. */
  shownMembers: number;
  reason: "similar" | "budget";
  /** Of a budget cluster: its members' generated flag (generated versions cluster apart). */
  generated?: boolean;
  /** Of a budget cluster: the plain nodes it folds, by label (the ones `expand` shows first). */
  alone?: WalkedNode[];
  /** The first members by label (at most FIRST_MEMBERS). */
  firstMembers: WalkedNode[];
  /** Members, searched by label (case-insensitive) and paged, ordered by label then id. */
  listMembers(page: { q?: string | undefined; limit: number; offset: number }): Promise<ClusterMemberPage>;
}

export interface ClusteredGraph {
  base: WalkedNode;
  nodes: (WalkedNode | Cluster)[];
  edges: WalkedEdge[];
  clusters: Map<string, Cluster>;
  /** Cluster id of every clustered node. */
  identity: Map<string, string>;
}

export const FIRST_MEMBERS = 5;

export const isCluster = (node: WalkedNode | Cluster): node is Cluster => "memberCount" in node;

/** A cluster id: the hash of the key that describes the cluster. */
export const clusterIdOf = (key: string) => `cl_${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;

const byLabel = (a: WalkedNode, b: WalkedNode) =>
  a.label < b.label ? -1 : a.label > b.label ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** Member listing of a cluster held in memory. */
function listMembersOf(members: WalkedNode[]): Cluster["listMembers"] {
  return async ({ q, limit, offset }) => {
    const needle = q?.toLowerCase();
    const matching = (needle ? members.filter((node) => node.label.toLowerCase().includes(needle)) : members)
      .slice()
      .sort(byLabel);
    return { total: matching.length, members: matching.slice(offset, offset + limit) };
  };
}

export interface ClusterOptions {
  clusterMin: number;
  pull: Set<string>;
  /** Cluster id → how many of its first members (by label) to show on their own. */
  expand: Map<string, number>;
}

export function clusterGraph(graph: WalkedGraph, options: ClusterOptions): ClusteredGraph {
  const { neighbours, distance, layers } = layersOf(graph);

  const identity = new Map<string, string>();
  const clusters = new Map<string, Cluster>();
  /** Pulled or expanded members, by the cluster they came out of. */
  const pulledFrom = new Map<string, string>();
  for (const [index, layer] of layers.entries()) {
    const groups = new Map<string, WalkedNode[]>();
    for (const id of layer) {
      const node = graph.nodes.get(id);
      if (!node) continue;
      if (index === 0 || node.group) continue;
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
      const id = clusterIdOf(key);
      const expandCount = options.expand.get(id) ?? 0;
      const expanded = new Set(expandCount > 0 ? [...group].sort(byLabel).slice(0, expandCount) : []);
      const members = group.filter((node) => !options.pull.has(node.id) && !expanded.has(node));
      // Members taken out say where from (to be put back), even when none is left in the cluster.
      const inCluster = new Set(members);
      for (const node of group) if (!inCluster.has(node)) pulledFrom.set(node.id, id);
      if (members.length === 0) continue;
      const first = group[0] as WalkedNode;
      const cluster: Cluster = {
        id,
        shownMembers: group.length - members.length,
        reason: "similar",
        memberKind: first.kind,
        type: first.type,
        depth: Math.sign(first.depth) * Math.min(...members.map((node) => Math.abs(node.depth))),
        extended: first.extended === true,
        memberCount: members.length,
        firstMembers: firstMembers(members, FIRST_MEMBERS),
        listMembers: listMembersOf(members),
      };
      clusters.set(cluster.id, cluster);
      for (const node of members) identity.set(node.id, cluster.id);
    }
  }

  const nodes: (WalkedNode | Cluster)[] = [...graph.nodes.values()].flatMap((node) => {
    if (identity.has(node.id)) return [];
    const from = pulledFrom.get(node.id);
    return [from ? { ...node, cluster: from } : node];
  });
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
  return { base: graph.base, nodes, edges: [...edges.values()], clusters, identity };
}

/** The `count` members with the smallest labels (then ids), without sorting them all. */
function firstMembers(members: WalkedNode[], count: number): WalkedNode[] {
  const first: WalkedNode[] = [];
  for (const node of members) {
    if (first.length === count && byLabel(node, first[count - 1] as WalkedNode) >= 0) continue;
    first.push(node);
    first.sort(byLabel);
    if (first.length > count) first.pop();
  }
  return first;
}

function layersOf(graph: WalkedGraph) {
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
  return { neighbours, distance, layers };
}
