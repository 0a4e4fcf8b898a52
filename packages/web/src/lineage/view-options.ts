import type { LineageQueryInput } from "@pedigree/protocol";
import { pageQueryString } from "../navigation";

/**
 * The custom view of a lineage tab, kept in the page URL so a view can be shared and reloads as it was.
 * Only options that differ from the API's defaults are written.
 */
export interface LineageViewOptions {
  upstream: number;
  downstream: number;
  artifactTypes: string[];
  jobTypes: string[];
  extended: boolean;
  includeGenerated: boolean;
  expandClusters: boolean;
  pull: string[];
  /** `<clusterId>:<n>`: the cluster's first n members shown on their own. */
  expand: string[];
}

export const defaultViewOptions: LineageViewOptions = {
  upstream: 2,
  downstream: 2,
  artifactTypes: [],
  jobTypes: [],
  extended: false,
  includeGenerated: false,
  expandClusters: false,
  pull: [],
  expand: [],
};

const listOf = (value: string | null) => (value ? value.split(",").filter(Boolean) : []);
const hopsOf = (value: string | null, fallback: number) => {
  const hops = Number(value);
  return value !== null && Number.isInteger(hops) && hops >= 0 && hops <= 50 ? hops : fallback;
};

export function viewOptionsFromUrl(query: URLSearchParams): LineageViewOptions {
  return {
    upstream: hopsOf(query.get("upstream"), defaultViewOptions.upstream),
    downstream: hopsOf(query.get("downstream"), defaultViewOptions.downstream),
    artifactTypes: listOf(query.get("artifactTypes")),
    jobTypes: listOf(query.get("jobTypes")),
    extended: query.get("extended") === "true",
    includeGenerated: query.get("includeGenerated") === "true",
    expandClusters: query.get("expandClusters") === "true",
    pull: listOf(query.get("pull")),
    expand: listOf(query.get("expand")).filter((item) => /^cl_[a-f0-9]{16}:\d{1,5}$/.test(item)),
  };
}

/** The URL query of a lineage tab: the view options plus the selected node, defaults left out. */
export function viewOptionsToUrl(options: LineageViewOptions, selected: string | null): string {
  const differs = <K extends keyof LineageViewOptions>(key: K) =>
    JSON.stringify(options[key]) !== JSON.stringify(defaultViewOptions[key]) ? options[key] : undefined;
  return pageQueryString({
    tab: "lineage",
    upstream: differs("upstream") as number | undefined,
    downstream: differs("downstream") as number | undefined,
    artifactTypes: options.artifactTypes,
    jobTypes: options.jobTypes,
    extended: options.extended || undefined,
    includeGenerated: options.includeGenerated || undefined,
    expandClusters: options.expandClusters || undefined,
    pull: options.pull,
    expand: options.expand,
    selected,
  });
}

/** The lineage API query for a base node under these options. */
export function lineageQuery(node: string, options: LineageViewOptions): LineageQueryInput {
  return {
    node,
    upstream: options.upstream,
    downstream: options.downstream,
    ...(options.artifactTypes.length ? { artifactTypes: options.artifactTypes } : {}),
    ...(options.jobTypes.length ? { jobTypes: options.jobTypes } : {}),
    extended: options.extended,
    includeGenerated: options.includeGenerated,
    expandClusters: options.expandClusters,
    ...(options.pull.length ? { pull: options.pull } : {}),
    ...(options.expand.length ? { expand: options.expand } : {}),
  };
}
