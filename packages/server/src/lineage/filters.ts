/**
 * Type, job-type and generated filters. Hidden nodes are still walked through: where hiding breaks a path,
 * a `hidden` edge joins the nearest shown nodes, so the graph stays connected. The base is never hidden.
 */
import type { WalkedEdge, WalkedGraph, WalkedNode } from "./walk";

export interface NodeFilter {
  artifactTypes?: string[] | undefined;
  jobTypes?: string[] | undefined;
  includeGenerated: boolean;
}

export function isShown(node: WalkedNode, filter: NodeFilter): boolean {
  if (node.kind === "version") {
    if (node.generated && !filter.includeGenerated) return false;
    return !filter.artifactTypes || filter.artifactTypes.includes(node.type);
  }
  return !filter.jobTypes || filter.jobTypes.includes(node.type);
}

/** The graph without the nodes the filter hides, hidden paths replaced by `hidden` edges. */
export function hideFilteredNodes(graph: WalkedGraph, filter: NodeFilter): WalkedGraph {
  const shown = (node: WalkedNode) => node.id === graph.base.id || isShown(node, filter);
  const hidden = new Set([...graph.nodes.values()].filter((node) => !shown(node)).map((node) => node.id));
  if (hidden.size === 0) return graph;

  const forward = new Map<string, WalkedEdge[]>();
  for (const edge of graph.edges) {
    const list = forward.get(edge.source);
    if (list) list.push(edge);
    else forward.set(edge.source, [edge]);
  }
  const edges = new Map<string, WalkedEdge>();
  for (const edge of graph.edges) {
    if (!hidden.has(edge.source) && !hidden.has(edge.target)) edges.set(`${edge.source}>${edge.target}`, edge);
  }
  for (const start of graph.nodes.keys()) {
    if (hidden.has(start)) continue;
    // Forward through hidden nodes only, to the first shown node on each path.
    const seen = new Set<string>();
    const stack = (forward.get(start) ?? []).filter((edge) => hidden.has(edge.target)).map((edge) => edge.target);
    while (stack.length > 0) {
      const current = stack.pop() as string;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const edge of forward.get(current) ?? []) {
        if (hidden.has(edge.target)) stack.push(edge.target);
        else if (!edges.has(`${start}>${edge.target}`))
          edges.set(`${start}>${edge.target}`, { source: start, target: edge.target, kind: "hidden" });
      }
    }
  }
  const nodes = new Map([...graph.nodes].filter(([id]) => !hidden.has(id)));
  return { base: graph.base, nodes, edges: [...edges.values()] };
}
