import { z } from "zod";
import { QueryInt4, Timestamp } from "./bounds";
import { Limits, QueryFlag } from "./common";
import { TombstoneFields } from "./storage";

const booleanFlag = QueryFlag;
/** `a,b,c` or a repeated parameter: at most `Limits.maxListItems` items of at most 300 characters. */
const commaList = z
  .union([z.array(z.string()), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split(",")).map((item) => item.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.string().max(300))
      .max(Limits.maxListItems, `lists hold at most ${Limits.maxListItems} items (maxListItems)`),
  );

const hopsLimit = `at most ${Limits.maxHops} hops (maxHops)`;

/** A node as a query names it: a ref, a version or run id, or an OpenLineage node id (`dataset:<ns>:<name>`…). */
const NodeText = z.string().min(1).max(4200);
const NodePart = z.string().min(1).max(2048).optional();
/**
 * An OpenLineage dataset or job named by its parts, for names that hold the `:` delimiter: `namespace` and
 * `name`, with `node=job` for a job (its latest run); a dataset otherwise. Either this or `node` is needed.
 */
const nodeNameParams = { namespace: NodePart, name: NodePart };

export const ClusterId = z.string().regex(/^cl_[a-f0-9]{16}$/, "cluster ids look like cl_ and 16 hex digits");

/**
 * `expand=<clusterId>:<n>,…`: show the first `n` members of that cluster (by name, then id) on their own, the
 * rest staying in the cluster under the same id. "Show the next 50" asks again with `n + 50`.
 */
const ClusterExpansion = z
  .string()
  .regex(/^cl_[a-f0-9]{16}:\d{1,5}$/, "expand takes <clusterId>:<count>, e.g. cl_0123456789abcdef:50")
  .transform((item) => {
    const [cluster, count] = item.split(":") as [string, string];
    return { cluster, count: Number(count) };
  });

/** Query options of a lineage request, as shared/SPEC.md "Lineage graph" defines them. */
export const LineageQuery = z.object({
  node: NodeText.optional(),
  ...nodeNameParams,
  upstream: z.coerce.number().int().min(0).max(Limits.maxHops, hopsLimit).default(2),
  downstream: z.coerce.number().int().min(0).max(Limits.maxHops, hopsLimit).default(2),
  artifactTypes: commaList.optional(),
  jobTypes: commaList.optional(),
  extended: booleanFlag.default(false),
  includeGenerated: booleanFlag.default(false),
  expandClusters: booleanFlag.default(false),
  clusterMin: z.coerce.number().int().min(2).max(Limits.maxNodes).default(5),
  pull: commaList.optional(),
  expand: commaList.pipe(z.array(ClusterExpansion)).optional(),
  maxNodes: z.coerce
    .number()
    .int()
    .min(1)
    .max(Limits.maxNodes, `maxNodes is at most ${Limits.maxNodes} (maxNodes)`)
    .default(500),
  asOf: Timestamp.optional(),
});
export type LineageQueryInput = z.input<typeof LineageQuery>;
export type LineageQuery = z.output<typeof LineageQuery>;

export const NodeKind = z.enum(["version", "run", "cluster"]);
export const EdgeKind = z.enum(["input", "output", "hidden"]);

const NodeBase = z.object({
  id: z.string(),
  depth: z.number().int(),
  extended: z.boolean().optional(),
  /** The cluster this node was pulled or expanded out of: dropping it from `pull`/`expand` puts it back. */
  cluster: z.string().optional(),
});

/** The OpenLineage identity of a node that came from (or is exported as) OpenLineage data. */
export const NodeOpenLineage = z.object({ namespace: z.string(), name: z.string(), runId: z.string().optional() });

/**
 * A registry collection holding a version (at `asOf`, or now): the collection's `vN` and the aliases held there,
 * the managed `latest` first. Only registries the reader can read are listed.
 */
export const NodeRegistryLink = z.object({
  registry: z.string(),
  collection: z.string(),
  version: z.string(),
  aliases: z.array(z.string()),
});
export type NodeRegistryLink = z.infer<typeof NodeRegistryLink>;

export const VersionNode = NodeBase.extend({
  kind: z.literal("version"),
  artifact: z.string(),
  type: z.string(),
  version: z.string(),
  aliases: z.array(z.string()),
  digest: z.string(),
  size: z.number(),
  generated: z.boolean(),
  createdAt: Timestamp,
  openlineage: NodeOpenLineage.optional(),
  /** Registry collections the version is linked in, by registry then collection; left out when there are none. */
  registryLinks: z.array(NodeRegistryLink).optional(),
  ...TombstoneFields,
});
export const RunNode = NodeBase.extend({
  kind: z.literal("run"),
  name: z.string(),
  jobType: z.string(),
  state: z.string(),
  startedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
  openlineage: NodeOpenLineage.optional(),
  ...TombstoneFields,
});
export const ClusterNode = NodeBase.extend({
  kind: z.literal("cluster"),
  memberKind: z.enum(["version", "run"]),
  /** Artifact type for a version cluster, job type for a run cluster. */
  type: z.string(),
  /** Members still in the cluster. */
  memberCount: z.number().int(),
  /** Members shown on their own beside it (pulled or expanded out); they carry `cluster` = this id. */
  shownMembers: z.number().int(),
  firstMembers: z.array(z.object({ id: z.string(), name: z.string() })),
  /**
   * `similar`: five or more nodes alike (clusterMin); `budget`: made because the layer did not fit `maxNodes`
   * (nodes of one kind and type in the layer, whatever their neighbours).
   */
  reason: z.enum(["similar", "budget"]),
});
export const LineageNode = z.discriminatedUnion("kind", [VersionNode, RunNode, ClusterNode]);
export type VersionNode = z.infer<typeof VersionNode>;
export type RunNode = z.infer<typeof RunNode>;
export type ClusterNode = z.infer<typeof ClusterNode>;
export type LineageNode = z.infer<typeof LineageNode>;

export const LineageEdge = z.object({
  source: z.string(),
  target: z.string(),
  kind: EdgeKind,
});
export type LineageEdge = z.infer<typeof LineageEdge>;

/** What `maxNodes` did to one hop layer. */
export const TruncatedLayer = z.object({
  /** The layer: negative upstream, positive downstream. */
  depth: z.number().int(),
  /** Nodes (versions and runs) the layer holds, before clustering for the budget. */
  nodes: z.number().int(),
  /** Of those, folded into `budget` clusters. */
  clustered: z.number().int(),
  /** Budget clusters made in the layer. */
  clusters: z.number().int(),
  /** Of those nodes, left out of the answer altogether (nothing nearer the base had room for them). */
  omitted: z.number().int(),
});
export type TruncatedLayer = z.infer<typeof TruncatedLayer>;

export const LineageGraph = z.object({
  base: z.string(),
  nodes: z.array(LineageNode),
  edges: z.array(LineageEdge),
  /** `false` when the whole graph fit `maxNodes`; else, per layer it touched, what the budget clustered or left out. */
  truncated: z.union([z.literal(false), z.object({ maxNodes: z.number().int(), layers: z.array(TruncatedLayer) })]),
});
export type LineageGraph = z.infer<typeof LineageGraph>;

export const ClusterMembersQuery = LineageQuery.extend({
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(Limits.maxPageSize).default(50),
  offset: QueryInt4.default(0),
});
export const ClusterMembers = z.object({
  cluster: z.string(),
  total: z.number().int(),
  members: z.array(z.discriminatedUnion("kind", [VersionNode, RunNode])),
});
export type ClusterMembers = z.infer<typeof ClusterMembers>;

/** `GET …/impact?node=`: everything downstream of a node. */
export const ImpactQuery = z.object({
  node: NodeText.optional(),
  ...nodeNameParams,
  asOf: Timestamp.optional(),
});
export type ImpactQueryInput = z.input<typeof ImpactQuery>;

const ImpactGroupLimit = 1000;
export const Impact = z.object({
  base: z.string(),
  versionCount: z.number().int(),
  runCount: z.number().int(),
  /** Descendant versions by artifact type; each group lists at most 1,000 (its `count` says how many there are). */
  artifactTypes: z.array(z.object({ type: z.string(), count: z.number().int(), versions: z.array(VersionNode) })),
  /** Descendant runs by job type, listed the same way. */
  jobTypes: z.array(z.object({ jobType: z.string(), count: z.number().int(), runs: z.array(RunNode) })),
  /** Descendant versions by the registry collection that holds them. */
  collections: z.array(
    z.object({
      registry: z.string(),
      collection: z.string(),
      count: z.number().int(),
      versions: z.array(VersionNode),
    }),
  ),
});
export type Impact = z.infer<typeof Impact>;
export const impactGroupLimit = ImpactGroupLimit;

/** `GET …/lineage/path?from=&to=`: the shortest chain between two nodes, in time order. */
export const LineagePathQuery = z.object({
  from: NodeText.optional(),
  fromNamespace: NodePart,
  fromName: NodePart,
  to: NodeText.optional(),
  toNamespace: NodePart,
  toName: NodePart,
  asOf: Timestamp.optional(),
});
export type LineagePathQueryInput = z.input<typeof LineagePathQuery>;
export const LineagePath = z.object({
  from: z.string(),
  to: z.string(),
  /** Runs and versions from the older end to the newer one (depth = position), or null when none connects them. */
  nodes: z.array(z.discriminatedUnion("kind", [VersionNode, RunNode])).nullable(),
  edges: z.array(LineageEdge),
});
export type LineagePath = z.infer<typeof LineagePath>;
