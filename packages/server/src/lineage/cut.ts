/** `maxNodes`: the answer keeps whole hop layers, nearest first, and says when it left some out. */
import type { WalkedEdge } from "./walked-graph";

export function cutAtLayers<Node extends { id: string; depth: number }>(
  nodes: Node[],
  edges: WalkedEdge[],
  maxNodes: number,
  /** A hop layer the walk already knew to be cut (it stopped there): it and every farther one go. */
  cutFrom = Number.POSITIVE_INFINITY,
): { nodes: Node[]; edges: WalkedEdge[]; truncated: boolean } {
  const perLayer = new Map<number, number>();
  for (const node of nodes) perLayer.set(Math.abs(node.depth), (perLayer.get(Math.abs(node.depth)) ?? 0) + 1);
  for (const layer of perLayer.keys()) if (layer >= cutFrom) perLayer.set(layer, Number.POSITIVE_INFINITY);
  const certainlyCut = Number.isFinite(cutFrom);
  let kept = 0;
  let deepestKept = -1;
  for (const layer of [...perLayer.keys()].sort((a, b) => a - b)) {
    const count = perLayer.get(layer) ?? 0;
    if (kept + count > maxNodes && layer > 0) break;
    kept += count;
    deepestKept = layer;
  }
  if (kept === nodes.length && !certainlyCut) return { nodes, edges, truncated: false };
  const keptNodes = nodes.filter((node) => Math.abs(node.depth) <= deepestKept);
  const ids = new Set(keptNodes.map((node) => node.id));
  return {
    nodes: keptNodes,
    edges: edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target)),
    truncated: true,
  };
}
