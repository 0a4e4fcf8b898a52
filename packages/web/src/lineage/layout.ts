import dagre from "@dagrejs/dagre";
import type { LineageGraph } from "@pedigree/protocol";

export const nodeWidth = 220;
export const nodeHeight = 68;
/** Space between nodes of one column, and between the wrapped columns of one layer. */
const nodeGap = 24;
const columnGap = 36;
const layerGap = 90;
/** A layer taller than this many nodes is wrapped into columns. */
export const wrapAbove = 12;

export interface NodePosition {
  x: number;
  y: number;
}

/**
 * Left-to-right layered layout (older on the left) with dagre: it lays out 500 nodes in a few hundred
 * milliseconds cold, where ELK's first layout alone took about a second. Positions are top-left corners.
 *
 * dagre puts every layer in one column, so a hub's 500 consumers made a column 18,000 px tall. A layer of
 * more than `wrapAbove` nodes is wrapped into a block of columns about as wide as it is tall (in dagre's
 * order, which keeps edge crossings down), and the layers right of it move right to make room.
 */
export function layoutLineage(graph: LineageGraph): Map<string, NodePosition> {
  const layout = new dagre.graphlib.Graph({ multigraph: false });
  layout.setGraph({ rankdir: "LR", nodesep: nodeGap, ranksep: layerGap, marginx: 10, marginy: 10 });
  layout.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) layout.setNode(node.id, { width: nodeWidth, height: nodeHeight });
  for (const edge of graph.edges) layout.setEdge(edge.source, edge.target);
  dagre.layout(layout);

  const centers = new Map(graph.nodes.map((node) => [node.id, layout.node(node.id)] as const));
  const layers = new Map<number, string[]>();
  for (const [id, center] of centers) {
    const x = Math.round(center.x);
    layers.set(x, [...(layers.get(x) ?? []), id]);
  }
  const positions = new Map<string, NodePosition>();
  let shift = 0;
  for (const x of [...layers.keys()].sort((a, b) => a - b)) {
    const ids = layers.get(x)!.sort((a, b) => centers.get(a)!.y - centers.get(b)!.y);
    const left = x - nodeWidth / 2 + shift;
    if (ids.length <= wrapAbove) {
      for (const id of ids) positions.set(id, { x: left, y: centers.get(id)!.y - nodeHeight / 2 });
      continue;
    }
    const { columns, rows } = wrappedShape(ids.length);
    const middle = ids.reduce((sum, id) => sum + centers.get(id)!.y, 0) / ids.length;
    const top = middle - (rows * (nodeHeight + nodeGap) - nodeGap) / 2;
    ids.forEach((id, index) => {
      const column = Math.floor(index / rows);
      positions.set(id, {
        x: left + column * (nodeWidth + columnGap),
        y: top + (index % rows) * (nodeHeight + nodeGap),
      });
    });
    shift += (columns - 1) * (nodeWidth + columnGap);
  }
  return positions;
}

/** Columns and rows for `count` nodes, the block about as wide as tall on screen. */
export function wrappedShape(count: number): { columns: number; rows: number } {
  const ratio = (nodeWidth + columnGap) / (nodeHeight + nodeGap);
  const rows = Math.max(wrapAbove, Math.ceil(Math.sqrt(count * ratio)));
  return { columns: Math.ceil(count / rows), rows };
}
