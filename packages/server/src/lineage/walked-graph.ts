/** The walked graph's types, apart from the walk so the modules shaping it need not import the walk. */
import type { SQL } from "drizzle-orm";

export type WalkedKind = "version" | "run";

/** A layer grouped in the database: its members are a query, never fetched whole. */
export interface NodeGroup {
  count: number;
  /** The first members by id (at most 5), with their labels. */
  firstMembers: { id: string; label: string }[];
  /** `select id`: the members. */
  members: SQL;
}

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
  /** Pulled or expanded out of this cluster. */
  cluster?: string;
  /** Set on a group of a large layer (its id is its budget cluster id). */
  group?: NodeGroup;
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
