/**
 * `maxNodes`: fits a clustered graph into its budget by clustering, not cutting. Each hop layer has a full form
 * (its nodes and similar-clusters) and a budget form (one `budget` cluster per kind, type and extended flag in
 * the layer, whatever the neighbours). Every layer first takes its budget form; only when even those do not fit
 * are layers left out: downstream ones first, farthest first, and upstream ones only once no downstream layer is
 * left (the upstream side is never dropped for the downstream side). Then layers take their full form again, nearest first
 * (upstream before downstream), while the budget lasts. Last, whatever no longer reaches the base over the
 * answer's edges is left out too, so no node is ever shown without an edge to the rest.
 */
import type { TruncatedLayer } from "@pedigree/protocol";
import { type Cluster, FIRST_MEMBERS, isCluster } from "./clusters";
import { reachableFrom } from "./visibility";
import { budgetClusterId, type WalkedEdge, type WalkedNode } from "./walk";

export type ShownNode = WalkedNode | Cluster;

export interface BudgetedGraph {
  nodes: ShownNode[];
  edges: WalkedEdge[];
  /** Budget clusters, by id, for their member lists. */
  clusters: Map<string, Cluster>;
  truncated: false | { maxNodes: number; layers: TruncatedLayer[] };
}

interface Layer {
  depth: number;
  /** The base alone: never clustered or left out (other nodes at depth 0, extended siblings, are a layer of their own). */
  isBase: boolean;
  full: ShownNode[];
  /** Budget clusters and the nodes alone of their kind and type. */
  budget: ShownNode[];
  /** Identity in the full form → identity in the budget form. */
  folded: Map<string, string>;
  /** Members of the layer (versions and runs), clusters counted by their members. */
  size: number;
}

/** Members a node of the shaped graph stands for: members pulled or expanded out of a cluster are nodes of their own. */
const memberCountOf = (node: ShownNode) => (isCluster(node) ? node.memberCount : 1);
const labelOrder = (a: WalkedNode, b: WalkedNode) =>
  a.label < b.label ? -1 : a.label > b.label ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/**
 * `expanded`: how many members of a budget cluster to show on their own (from `expand=<id>:<n>`): its plain
 * nodes (`alone`, members pulled out of a similar-cluster included); members still in a similar-cluster it
 * folds stay there.
 */
export function fitBudget(
  base: WalkedNode,
  nodes: ShownNode[],
  edges: WalkedEdge[],
  maxNodes: number,
  expanded: Map<string, number>,
): BudgetedGraph {
  const layers = layersOf(base, nodes);
  const order = priorityOrder(layers);
  const form = new Map<Layer, "full" | "budget" | "omitted">();
  let used = 0;
  for (const layer of order) {
    form.set(layer, "budget");
    used += layer.budget.length;
  }
  // Leave layers out until the budget forms fit: downstream ones first, farthest first, then upstream ones.
  const leaveOutOrder = [...layers].sort(
    (a, b) =>
      Number(a.isBase) - Number(b.isBase) ||
      Math.sign(b.depth) - Math.sign(a.depth) ||
      Math.abs(b.depth) - Math.abs(a.depth),
  );
  for (const layer of leaveOutOrder) {
    if (used <= maxNodes) break;
    if (layer.isBase) continue;
    form.set(layer, "omitted");
    used -= layer.budget.length;
  }
  // Nearest layers show in full again while the budget lasts.
  for (const layer of order) {
    if (form.get(layer) !== "budget") continue;
    const extra = layer.full.length - layer.budget.length;
    if (used + extra > maxNodes) continue;
    form.set(layer, "full");
    used += extra;
  }

  const identity = new Map<string, string>();
  const shown: ShownNode[] = [];
  /** The layer of every shown node, set where it is shown: the report counts each layer by it. */
  const layerOf = new Map<string, Layer>();
  const show = (node: ShownNode, layer: Layer) => {
    shown.push(node);
    layerOf.set(node.id, layer);
  };
  const clusters = new Map<string, Cluster>();
  for (const layer of layers) {
    const chosen = form.get(layer);
    if (chosen === "omitted") continue;
    if (chosen === "full") {
      for (const node of layer.full) {
        identity.set(node.id, node.id);
        show(node, layer);
      }
      continue;
    }
    for (const [from, to] of layer.folded) identity.set(from, to);
    for (const node of layer.budget) {
      if (!isCluster(node) || node.reason !== "budget") {
        show(node, layer);
        continue;
      }
      // Expanded members show beside their budget cluster, with their own edges; the rest stays in it.
      const out = (node.alone ?? []).slice(0, expanded.get(node.id) ?? 0);
      const rest: Cluster = { ...node, memberCount: node.memberCount - out.length, shownMembers: out.length };
      clusters.set(node.id, rest);
      if (rest.memberCount > 0) show(rest, layer);
      for (const member of out) {
        show({ ...member, cluster: node.id }, layer);
        identity.set(member.id, member.id);
      }
    }
  }

  const answerEdges = new Map<string, WalkedEdge>();
  const addEdge = (source: string, target: string, kind: WalkedEdge["kind"]) => {
    if (source === target) return;
    const key = `${source}>${target}`;
    const existing = answerEdges.get(key);
    if (existing && (existing.kind !== "hidden" || kind === "hidden")) return;
    answerEdges.set(key, { source, target, kind });
  };
  for (const edge of edges) {
    const source = identity.get(edge.source);
    const target = identity.get(edge.target);
    if (source !== undefined && target !== undefined) addEdge(source, target, edge.kind);
  }

  const reachable = reachableFrom(base.id, [...answerEdges.values()]);
  const kept = shown.filter((node) => reachable.has(node.id));
  const keptIds = new Set(kept.map((node) => node.id));
  const keptEdges = [...answerEdges.values()].filter((edge) => keptIds.has(edge.source) && keptIds.has(edge.target));

  const report: TruncatedLayer[] = [];
  for (const layer of layers) {
    const inLayer = kept.filter((node) => layerOf.get(node.id) === layer);
    const budgetClusters = inLayer.filter((node): node is Cluster => isCluster(node) && node.reason === "budget");
    const clustered = budgetClusters.reduce((sum, node) => sum + node.memberCount, 0);
    const omitted = Math.max(0, layer.size - inLayer.reduce((sum, node) => sum + memberCountOf(node), 0));
    if (layer.isBase || (omitted === 0 && budgetClusters.length === 0)) continue;
    report.push({ depth: layer.depth, nodes: layer.size, clustered, clusters: budgetClusters.length, omitted });
  }
  return {
    nodes: kept,
    edges: keptEdges,
    clusters,
    truncated: report.length === 0 ? false : { maxNodes, layers: report },
  };
}

/** Base first, then by distance, upstream before downstream. */
function priorityOrder(layers: Layer[]): Layer[] {
  return [...layers].sort(
    (a, b) =>
      Number(b.isBase) - Number(a.isBase) ||
      Math.abs(a.depth) - Math.abs(b.depth) ||
      Math.sign(a.depth) - Math.sign(b.depth),
  );
}

function layersOf(base: WalkedNode, nodes: ShownNode[]): Layer[] {
  const byDepth = new Map<number, ShownNode[]>();
  for (const node of nodes) {
    if (node.id === base.id) continue;
    const list = byDepth.get(node.depth);
    if (list) list.push(node);
    else byDepth.set(node.depth, [node]);
  }
  const baseNode = nodes.find((node) => node.id === base.id) ?? base;
  const baseLayer: Layer = {
    depth: 0,
    isBase: true,
    full: [baseNode],
    budget: [baseNode],
    folded: new Map([[base.id, base.id]]),
    size: 1,
  };
  return [baseLayer, ...[...byDepth].map(([depth, full]) => budgetFormOf(depth, full))];
}

function budgetFormOf(depth: number, full: ShownNode[]): Layer {
  const groups = new Map<string, ShownNode[]>();
  for (const node of full) {
    const kind = isCluster(node) ? node.memberKind : node.kind;
    const key = [kind, node.type, node.extended === true, node.generated === true].join("\u0000");
    const group = groups.get(key);
    if (group) group.push(node);
    else groups.set(key, [node]);
  }
  const folded = new Map<string, string>();
  const budget: ShownNode[] = [];
  for (const group of groups.values()) {
    if (group.length === 1) {
      budget.push(...group);
      for (const node of group) folded.set(node.id, node.id);
      continue;
    }
    const first = group[0] as ShownNode;
    const id = budgetClusterId(
      depth,
      isCluster(first) ? first.memberKind : first.kind,
      first.type,
      first.extended === true,
      first.generated === true,
    );
    const cluster = budgetCluster(id, depth, group);
    budget.push(cluster);
    for (const node of group) folded.set(node.id, cluster.id);
  }
  return { depth, isBase: false, full, budget, folded, size: full.reduce((sum, node) => sum + memberCountOf(node), 0) };
}

/** One cluster of a layer's nodes and similar-clusters of one kind and type. */
function budgetCluster(id: string, depth: number, group: ShownNode[]): Cluster {
  const first = group[0] as ShownNode;
  const alone = group.filter((node): node is WalkedNode => !isCluster(node)).sort(labelOrder);
  const parts = group.filter(isCluster);
  const firstMembers = [...alone, ...parts.flatMap((part) => part.firstMembers)]
    .sort(labelOrder)
    .slice(0, FIRST_MEMBERS);
  return {
    id,
    memberKind: isCluster(first) ? first.memberKind : first.kind,
    type: first.type,
    depth,
    extended: first.extended === true,
    generated: first.generated === true,
    memberCount: group.reduce((sum, node) => sum + memberCountOf(node), 0),
    shownMembers: 0,
    reason: "budget",
    firstMembers,
    alone,
    async listMembers({ q, limit, offset }) {
      const members: WalkedNode[] = [...alone];
      for (const part of parts) {
        const all = await part.listMembers({ limit: part.memberCount, offset: 0 });
        members.push(...all.members);
      }
      const needle = q?.toLowerCase();
      const matching = (needle ? members.filter((node) => node.label.toLowerCase().includes(needle)) : members).sort(
        labelOrder,
      );
      return { total: matching.length, members: matching.slice(offset, offset + limit) };
    },
  };
}
