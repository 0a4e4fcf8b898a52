/** Lineage queries: the graph around a version or run, what depends on it, and the chain between two nodes. */
import { ClusterMembers, Impact, LineageGraph, LineagePath, type LineageQuery } from "@pedigree/protocol";
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

type SearchParams = Record<string, string | number | boolean | undefined>;

function lineageParams(node: string, options: LineageOptions): SearchParams {
  const { artifactTypes, jobTypes, pull, expand, asOf, ...rest } = options;
  return {
    node,
    ...rest,
    artifactTypes: artifactTypes?.join(","),
    jobTypes: jobTypes?.join(","),
    pull: pull?.join(","),
    expand: expand?.map(({ cluster, count }) => `${cluster}:${count}`).join(","),
    asOf: asOf instanceof Date ? asOf.toISOString() : asOf,
  };
}

/** The lineage graph around `node` (a ref, a version id or a run id) in `project`. */
export function fetchLineage(
  client: HttpClient,
  project: string,
  node: string,
  options: LineageOptions = {},
): Promise<LineageGraph> {
  return client.request("GET", `projects/${project}/lineage`, LineageGraph, {
    searchParams: lineageParams(node, options),
  });
}

/** One page of a cluster's members; pass the options the graph was asked with, so the cluster is the same. */
export function fetchClusterMembers(
  client: HttpClient,
  project: string,
  clusterId: string,
  node: string,
  options: ClusterMembersOptions = {},
): Promise<ClusterMembers> {
  const { q, limit, offset, ...lineage } = options;
  return client.request(
    "GET",
    `projects/${project}/lineage/clusters/${encodeURIComponent(clusterId)}/members`,
    ClusterMembers,
    { searchParams: { ...lineageParams(node, lineage), q, limit, offset } },
  );
}

/** Every descendant version and run of `node`, grouped by artifact type, job type and registry collection. */
export function fetchImpact(
  client: HttpClient,
  project: string,
  node: string,
  options: { asOf?: Date | string } = {},
): Promise<Impact> {
  const asOf = options.asOf instanceof Date ? options.asOf.toISOString() : options.asOf;
  return client.request("GET", `projects/${project}/impact`, Impact, { searchParams: { node, asOf } });
}

/** The shortest chain of runs and versions between `from` and `to` (either way round), or `nodes: null`. */
export function fetchLineagePath(
  client: HttpClient,
  project: string,
  from: string,
  to: string,
  options: { asOf?: Date | string } = {},
): Promise<LineagePath> {
  const asOf = options.asOf instanceof Date ? options.asOf.toISOString() : options.asOf;
  return client.request("GET", `projects/${project}/lineage/path`, LineagePath, { searchParams: { from, to, asOf } });
}
