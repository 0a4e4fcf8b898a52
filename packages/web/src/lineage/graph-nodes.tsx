import type { LineageNode } from "@pedigree/protocol";
import { Handle, type Node, type NodeProps, Position } from "@xyflow/react";

export type LineageNodeData = {
  node: LineageNode;
  isBase: boolean;
  isSelected: boolean;
  /** Matches the find box; `dimmed` when something else does. */
  found: boolean;
  dimmed: boolean;
};
export type LineageFlowNode = Node<LineageNodeData, "lineage">;

/** OpenLineage datasets and runs are titled by their own names, with the namespace beneath. */
export const titleOf = (node: LineageNode) => {
  if (node.kind === "version") {
    return node.openlineage ? `${node.openlineage.name}:${node.version}` : `${node.artifact}:${node.version}`;
  }
  if (node.kind === "run") return node.name;
  return `${node.memberCount} ${node.type} ${node.memberKind === "run" ? "runs" : "versions"}`;
};
const typeOf = (node: LineageNode) =>
  node.kind === "version"
    ? node.type
    : node.kind === "run"
      ? node.jobType
      : `${node.firstMembers.map((member) => member.name).join(", ")}${node.memberCount > node.firstMembers.length ? ", …" : ""}`;

/**
 * The registry refs that name a version, one per collection alias (`model/zoo-classifier:production`); a
 * collection where it holds none but `latest` names it by `latest`, or else by the collection's `vN`.
 */
export function registryRefsOf(node: LineageNode): string[] {
  if (node.kind !== "version") return [];
  return (node.registryLinks ?? []).flatMap((link) => {
    const named = link.aliases.filter((alias) => alias !== "latest");
    const selectors = named.length > 0 ? named : [link.aliases.includes("latest") ? "latest" : link.version];
    return selectors.map((selector) => `${link.registry}/${link.collection}:${selector}`);
  });
}

/** What the find box compares with: names, `artifact:version`, `artifact:alias`, registry refs, ids, types. */
function findableText(node: LineageNode): string[] {
  if (node.kind === "version")
    return [
      node.id,
      node.artifact,
      `${node.artifact}:${node.version}`,
      ...node.aliases.map((alias) => `${node.artifact}:${alias}`),
      ...registryRefsOf(node),
      node.type,
    ];
  if (node.kind === "run") return [node.id, node.name, node.jobType];
  return [node.id, node.type, ...node.firstMembers.flatMap((member) => [member.id, member.name])];
}

export function matchesFind(node: LineageNode, needle: string): boolean {
  const lower = needle.trim().toLowerCase();
  return lower !== "" && findableText(node).some((text) => text.toLowerCase().includes(lower));
}

/** The tooltip: every name of the node in full, the card cuts long ones. */
function tooltipOf(node: LineageNode): string {
  if (node.kind === "version")
    return [
      `${node.artifact}:${node.version}`,
      node.aliases.length ? `aliases: ${node.aliases.join(", ")}` : "",
      ...(node.registryLinks ?? []).map(
        (link) =>
          `in ${link.registry}/${link.collection} as ${link.version}${link.aliases.length ? ` (${link.aliases.join(", ")})` : ""}`,
      ),
      `type: ${node.type}`,
      node.id,
    ]
      .filter(Boolean)
      .join("\n");
  if (node.kind === "run") return [node.name, `job type: ${node.jobType} · ${node.state}`, node.id].join("\n");
  return [
    `cluster of ${node.memberCount} ${node.memberKind}s of type ${node.type}`,
    ...node.firstMembers.map((member) => `  ${member.name}`),
    node.memberCount > node.firstMembers.length ? "  …" : "",
  ]
    .filter(Boolean)
    .join("\n");
}

/** One node of the graph: runs are rounded boxes, versions square cards, clusters stacked cards with a count. */
export function LineageNodeCard({ data }: NodeProps<LineageFlowNode>) {
  const { node, isBase, isSelected } = data;
  const registryRefs = registryRefsOf(node);
  const classes = [
    "lineage-node",
    node.kind,
    registryRefs.length > 0 ? "linked" : "",
    isBase ? "base" : "",
    isSelected ? "selected" : "",
    node.extended ? "extended" : "",
    data.found ? "found" : "",
    data.dimmed ? "dimmed" : "",
  ];
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      data-testid={`node-${node.id}`}
      data-kind={node.kind}
      data-depth={node.depth}
      title={tooltipOf(node)}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="node-kind">
        {node.kind === "cluster"
          ? `cluster${node.shownMembers ? ` · ${node.shownMembers} more shown` : ""}${node.reason === "budget" ? " · over budget" : ""}`
          : node.kind}
        {isBase ? " · base" : ""}
        {node.extended ? " · extended" : ""}
      </div>
      <div className="node-title">{titleOf(node)}</div>
      <div className="node-type">
        {typeOf(node)}
        {node.kind === "version" && node.aliases.length > 0
          ? node.aliases.map((alias) => (
              <span key={alias} className="node-alias">
                {alias}
              </span>
            ))
          : null}
        {node.kind === "run" ? ` · ${node.state}` : ""}
      </div>
      {registryRefs.length > 0 ? (
        // One ref, cut to the card's width; the rest are counted here and listed in the tooltip and details.
        <div className="node-registry" data-testid="registry-ref">
          <span className="node-registry-ref">{registryRefs[0]}</span>
          {registryRefs.length > 1 ? <span className="node-registry-more">+{registryRefs.length - 1}</span> : null}
        </div>
      ) : null}
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
