/** Extended lineage: siblings of the walked nodes join the graph, each flagged `extended`. */
import type { Sibling, WalkedEdge, WalkedGraph } from "./walk";

export function addSiblings(graph: WalkedGraph, siblings: Sibling[]): WalkedGraph {
  if (siblings.length === 0) return graph;
  const nodes = new Map(graph.nodes);
  const edges = new Map<string, WalkedEdge>(graph.edges.map((edge) => [`${edge.source}>${edge.target}`, edge]));
  for (const { anchor: _anchor, edge, ...node } of siblings) {
    const known = nodes.get(node.id);
    if (!known || (known.extended && Math.abs(node.depth) < Math.abs(known.depth))) nodes.set(node.id, node);
    edges.set(`${edge.source}>${edge.target}`, edge);
  }
  return { base: graph.base, nodes, edges: [...edges.values()] };
}
