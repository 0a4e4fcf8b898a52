import type { LineageNode } from "@pedigree/protocol";
import { Handle, type Node, type NodeProps, Position } from "@xyflow/react";

export type LineageNodeData = { node: LineageNode; isBase: boolean; isSelected: boolean };
export type LineageFlowNode = Node<LineageNodeData, "lineage">;

/** OpenLineage datasets and runs are titled by their own names, with the namespace beneath. */
const titleOf = (node: LineageNode) => {
  if (node.kind === "version") {
    return node.openlineage ? `${node.openlineage.name}:${node.version}` : `${node.artifact}:${node.version}`;
  }
  if (node.kind === "run") return node.name;
  return `${node.memberCount} ${node.memberKind === "run" ? "runs" : "versions"}`;
};
const typeOf = (node: LineageNode) =>
  node.kind === "version" ? node.type : node.kind === "run" ? node.jobType : node.type;

/** One node of the graph: runs are rounded boxes, versions square cards, clusters stacked cards with a count. */
export function LineageNodeCard({ data }: NodeProps<LineageFlowNode>) {
  const { node, isBase, isSelected } = data;
  const classes = [
    "lineage-node",
    node.kind,
    isBase ? "base" : "",
    isSelected ? "selected" : "",
    node.extended ? "extended" : "",
  ];
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      data-testid={`node-${node.id}`}
      data-kind={node.kind}
      data-depth={node.depth}
      title={node.id}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="node-kind">
        {node.kind === "cluster" ? `cluster of ${node.memberKind}s` : node.kind}
        {isBase ? " · base" : ""}
        {node.extended ? " · extended" : ""}
      </div>
      <div className="node-title">
        {node.kind === "cluster" ? <span className="count">{node.memberCount}</span> : null}
        {titleOf(node)}
      </div>
      <div className="node-type">
        {typeOf(node)}
        {node.kind === "version" && node.aliases.length > 0 ? ` · ${node.aliases.join(", ")}` : ""}
        {node.kind === "run" ? ` · ${node.state}` : ""}
      </div>
      {node.kind !== "cluster" && node.openlineage ? (
        <div className="node-namespace" data-testid="node-namespace">
          {node.openlineage.namespace}
        </div>
      ) : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

export const lineageNodeTypes = { lineage: LineageNodeCard };
