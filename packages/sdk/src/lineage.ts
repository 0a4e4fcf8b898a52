/** Lineage queries: the graph around a version or run, what depends on it, and the chain between two nodes. */
import type {
  ClusterMembers,
  Impact,
  LineageGraph,
  LineagePath,
  LineageQuery,
  OpenLineageNodeName,
} from "@pedigree/protocol";
import type { HttpClient } from "./client";

/** Options of `lineage()`, as SPEC.md "Lineage graph" defines them; `asOf` may be a Date. */
export type LineageOptions = Partial<
  Omit<LineageQuery, "node" | "asOf" | "artifactTypes" | "jobTypes" | "pull" | "expand">
> & {
  artifactTypes?: string[];
  jobTypes?: string[];
  /** Cluster members to show on their own. */
  pull?: string[];
  /** Show the first `count` members of a cluster on their own (ask again with 50 more for the next 50). */
  expand?: { cluster: string; count: number }[];
  asOf?: Date | string;
};

export interface ClusterMembersOptions extends LineageOptions {
  /** Searches member names. */
  q?: string;
  limit?: number;
  offset?: number;
}

/**
 * A lineage node: a ref, a version id or a run id; an OpenLineage node id (`dataset:<namespace>:<name>`,
 * `job:<namespace>:<name>` for the job's latest run, `run:<uuid>`); or an OpenLineage dataset or job by its
 * parts, for names that hold `:`.
 */
export type LineageNodeRef = string | OpenLineageNodeName;

/** The query parameters naming `node`: `node` (or `from`/`to`), or its namespace and name. */
function nodeQuery(node: LineageNodeRef): { node?: string; namespace?: string; name?: string } {
  if (typeof node === "string") return { node };
  return { ...(node.kind === "job" ? { node: "job" } : {}), namespace: node.namespace, name: node.name };
}

function lineageQuery(node: LineageNodeRef, options: LineageOptions) {
  const { asOf, expand, ...rest } = options;
  return {
    ...nodeQuery(node),
    ...rest,
    expand: expand?.map(({ cluster, count }) => `${cluster}:${count}`),
    asOf: timeOf(asOf),
  };
}

const timeOf = (asOf: Date | string | undefined) => (asOf instanceof Date ? asOf.toISOString() : asOf);

/** The lineage graph around `node` (a ref, a version id or a run id) in `project`. */
export function fetchLineage(
  client: HttpClient,
  project: string,
  node: LineageNodeRef,
  options: LineageOptions = {},
): Promise<LineageGraph> {
  return client.call("getLineage", { params: { project }, query: lineageQuery(node, options) });
}

/** One page of a cluster's members; pass the options the graph was asked with, so the cluster is the same. */
export function fetchClusterMembers(
  client: HttpClient,
  project: string,
  clusterId: string,
  node: LineageNodeRef,
  options: ClusterMembersOptions = {},
): Promise<ClusterMembers> {
  const { q, limit, offset, ...lineage } = options;
  return client.call("listClusterMembers", {
    params: { project, clusterId },
    query: { ...lineageQuery(node, lineage), q, limit, offset },
  });
}

/** Every descendant version and run of `node`, grouped by artifact type, job type and registry collection. */
export function fetchImpact(
  client: HttpClient,
  project: string,
  node: LineageNodeRef,
  options: { asOf?: Date | string } = {},
): Promise<Impact> {
  return client.call("getImpact", { params: { project }, query: { ...nodeQuery(node), asOf: timeOf(options.asOf) } });
}

/** The shortest chain of runs and versions between `from` and `to` (either way round), or `nodes: null`. */
export function fetchLineagePath(
  client: HttpClient,
  project: string,
  from: LineageNodeRef,
  to: LineageNodeRef,
  options: { asOf?: Date | string } = {},
): Promise<LineagePath> {
  const start = nodeQuery(from);
  const end = nodeQuery(to);
  return client.call("getLineagePath", {
    params: { project },
    query: {
      from: start.node,
      fromNamespace: start.namespace,
      fromName: start.name,
      to: end.node,
      toNamespace: end.namespace,
      toName: end.name,
      asOf: timeOf(options.asOf),
    },
  });
}
