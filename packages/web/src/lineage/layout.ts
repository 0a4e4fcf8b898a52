import type { LineageGraph } from "@pedigree/protocol";
import ELK from "elkjs/lib/elk.bundled.js";

export const nodeWidth = 220;
export const nodeHeight = 68;

export interface NodePosition {
  x: number;
  y: number;
}

const elk = new ELK();

/**
 * Left-to-right layered layout (older on the left). Each node is pinned to the layer of its depth, so a node
 * always sits at its hop distance from the base and ELK only orders nodes within layers to cut crossings.
 */
export async function layoutLineage(graph: LineageGraph): Promise<Map<string, NodePosition>> {
  const minDepth = Math.min(0, ...graph.nodes.map((node) => node.depth));
  const laidOut = await elk.layout({
    id: "lineage",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.partitioning.activate": "true",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "24",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.thoroughness": "3",
    },
    children: graph.nodes.map((node) => ({
      id: node.id,
      width: nodeWidth,
      height: nodeHeight,
      layoutOptions: { "elk.partitioning.partition": String(node.depth - minDepth) },
    })),
    edges: graph.edges.map((edge, index) => ({ id: `e${index}`, sources: [edge.source], targets: [edge.target] })),
  });
  const positions = new Map<string, NodePosition>();
  for (const child of laidOut.children ?? []) positions.set(child.id, { x: child.x ?? 0, y: child.y ?? 0 });
  return positions;
}
