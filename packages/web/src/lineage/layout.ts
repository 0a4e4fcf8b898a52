import dagre from "@dagrejs/dagre";
import type { LineageGraph, LineageNode } from "@pedigree/protocol";

export const nodeWidth = 220;
export const nodeHeight = 68;
/** A version linked in a registry has one line more, for its registry ref (`.lineage-node.linked` in styles.css). */
export const linkedNodeHeight = 86;
export const heightOf = (node: LineageNode) =>
  node.kind === "version" && (node.registryLinks?.length ?? 0) > 0 ? linkedNodeHeight : nodeHeight;
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
  const heights = new Map(graph.nodes.map((node) => [node.id, heightOf(node)]));
  for (const node of graph.nodes) layout.setNode(node.id, { width: nodeWidth, height: heights.get(node.id)! });
  for (const edge of graph.edges) layout.setEdge(edge.source, edge.target);
  dagre.layout(layout);

  const centers = new Map(graph.nodes.map((node) => [node.id, layout.node(node.id)] as const));
  const layers = new Map<number, string[]>();
  for (const [id, center] of centers) {
    const x = Math.round(center.x);
    layers.set(x, [...(layers.get(x) ?? []), id]);
  }
  const order = [...layers.keys()].sort((a, b) => a - b);
  for (const x of order) layers.get(x)!.sort((a, b) => centers.get(a)!.y - centers.get(b)!.y);
  const centerY = (id: string) => centers.get(id)!.y;
  // The tallest wrapped layer sets how much the other layers close up, so each stays beside its neighbours.
  const tallest = order.map((x) => layers.get(x)!).reduce((a, b) => (b.length > a.length ? b : a));
  const squeeze = (() => {
    if (tallest.length <= wrapAbove) return (y: number) => y;
    const from = [centerY(tallest[0]!), centerY(tallest[tallest.length - 1]!)] as const;
    const rows = wrappedShape(tallest.length).rows;
    const span = (rows - 1) * (nodeHeight + nodeGap);
    const middle = (from[0] + from[1]) / 2;
    const scale = from[1] > from[0] ? span / (from[1] - from[0]) : 1;
    return (y: number) => middle + (y - middle) * scale;
  })();

  const positions = new Map<string, NodePosition>();
  let shift = 0;
  for (const x of order) {
    const ids = layers.get(x)!;
    const left = x - nodeWidth / 2 + shift;
    if (ids.length <= wrapAbove) {
      let previousBottom = Number.NEGATIVE_INFINITY;
      for (const id of ids) {
        const height = heights.get(id)!;
        const y = Math.max(squeeze(centerY(id)) - height / 2, previousBottom + nodeGap);
        positions.set(id, { x: left, y });
        previousBottom = y + height;
      }
      continue;
    }
    const { columns, rows } = wrappedShape(ids.length);
    // Rows of a wrapped block are as tall as its tallest node.
    const rowHeight = Math.max(...ids.map((id) => heights.get(id)!));
    const middle = squeeze(ids.reduce((sum, id) => sum + centerY(id), 0) / ids.length);
    const top = middle - (rows * (rowHeight + nodeGap) - nodeGap) / 2;
    ids.forEach((id, index) => {
      const column = Math.floor(index / rows);
      positions.set(id, {
        x: left + column * (nodeWidth + columnGap),
        y: top + (index % rows) * (rowHeight + nodeGap),
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
