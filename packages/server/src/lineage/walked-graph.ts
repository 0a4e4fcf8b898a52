/** The graph a lineage walk collects, before it is shaped for display: shared by the walk and the pure steps after it. */

export type WalkedKind = "version" | "run";

export interface WalkedNode {
  id: string;
  kind: WalkedKind;
  /** Negative upstream, positive downstream, 0 for the base. */
  depth: number;
  /** Artifact type of a version, job type of a run. */
  type: string;
  /** `artifact:vN` of a version, the display name of a run. */
  label: string;
  generated: boolean;
  extended?: true;
}

export interface WalkedEdge {
  source: string;
  target: string;
  kind: "input" | "output" | "hidden";
}

/** The walked graph before it is shaped for display: edges always point forward in time. */
export interface WalkedGraph {
  base: WalkedNode;
  nodes: Map<string, WalkedNode>;
  edges: WalkedEdge[];
}
