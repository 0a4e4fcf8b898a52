/**
 * OpenLineage events as Pedigree reads and writes them: the core model of spec 2-0-2
 * (`$id` https://openlineage.io/spec/2-0-2/OpenLineage.json, OpenLineage/OpenLineage `spec/OpenLineage.json`;
 * the stored revision read was commit f54c172ed4d6ffef68f034bfd1ff940159e31a1e, with 2-0-2's additions —
 * BaseEvent, the RUNNING event type, DatasetEvent/StaticDataset and JobEvent — as 2-0-2 defines them) and
 * the facets of `spec/facets/*.json` Pedigree shows (SchemaDatasetFacet e724205e, DatasetVersionDatasetFacet
 * 0f6a673d, ParentRunFacet eea49c16, JobTypeJobFacet 46420d73, ErrorMessageRunFacet c7469da7,
 * SQLJobFacet eea49c16, SourceCodeLocationJobFacet 79010434, OwnershipJobFacet 8f589341, ColumnLineage
 * 59063651, Tags*Facet bc2a785a, Documentation*Facet eea49c16).
 *
 * Every object is loose: unknown properties and unknown facets are kept, as the spec's
 * `additionalProperties` says. Two leniencies, both as Marquez reads events: `schemaURL` may be missing
 * (producers of spec 1-0-x omit it), and an `eventTime` without an offset is UTC. Sizes are bounded like the
 * rest of the protocol: names, lists, and each facet map's JSON.
 */
import { z } from "zod";
import { jsonDepthAtMost, Limits, ProjectName } from "./common";

export const OpenLineageLimits = {
  /** Of a namespace or a name (a dataset's path, a job's dotted name). */
  maxNameLength: 2048,
  maxDatasetsPerEvent: 1000,
  maxEventsPerBatch: 1000,
  /** Of one facet map (a run's, a job's, a dataset's), serialised. */
  maxFacetsBytes: Limits.maxJsonBytes,
} as const;

const Name = z.string().min(1).max(OpenLineageLimits.maxNameLength);
const Uri = z.string().min(1).max(OpenLineageLimits.maxNameLength);
/** RFC 3339 with an offset, or without one (read as UTC). Any fraction of a second. */
export const OpenLineageTime = z.iso.datetime({ offset: true, local: true });
/** The spec says `format: uuid`; any 8-4-4-4-12 hex form is taken, and compared in lower case. */
export const OpenLineageRunId = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "runId is a UUID")
  .transform((id) => id.toLowerCase());

/** BaseFacet: `_producer` and `_schemaURL` are required; everything else is the facet's own. */
const baseFacet = { _producer: Uri, _schemaURL: Uri };
const facet = <Shape extends z.ZodRawShape>(shape: Shape) => z.looseObject({ ...baseFacet, ...shape });
const CustomFacet = facet({});

export const ParentRunFacet = facet({
  run: z.looseObject({ runId: OpenLineageRunId }),
  job: z.looseObject({ namespace: Name, name: Name }),
  root: z
    .looseObject({
      run: z.looseObject({ runId: OpenLineageRunId }),
      job: z.looseObject({ namespace: Name, name: Name }),
    })
    .optional(),
});
export const ErrorMessageRunFacet = facet({
  message: z.string(),
  programmingLanguage: z.string(),
  stackTrace: z.string().optional(),
});
export const NominalTimeRunFacet = facet({
  nominalStartTime: OpenLineageTime,
  nominalEndTime: OpenLineageTime.nullish(),
});
const Tag = z.looseObject({ key: z.string(), value: z.string(), source: z.string().optional() });
export const TagsFacet = facet({ tags: z.array(Tag) });

export const JobTypeJobFacet = facet({
  processingType: z.string(),
  integration: z.string(),
  jobType: z.string().optional(),
});
export const DocumentationFacet = facet({ description: z.string() });
export const SourceCodeJobFacet = facet({ language: z.string(), sourceCode: z.string() });
export const SourceCodeLocationJobFacet = facet({
  type: z.string(),
  url: z.string(),
  repoUrl: z.string().optional(),
  path: z.string().optional(),
  version: z.string().optional(),
  tag: z.string().optional(),
  branch: z.string().optional(),
});
export const OwnershipFacet = facet({
  owners: z.array(z.looseObject({ name: z.string(), type: z.string().optional() })),
});
export const SQLJobFacet = facet({ query: z.string(), dialect: z.string().optional() });

export interface SchemaField {
  name: string;
  type?: string | undefined;
  description?: string | undefined;
  fields?: SchemaField[] | undefined;
  [key: string]: unknown;
}
const SchemaFieldShape: z.ZodType<SchemaField> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    type: z.string().optional(),
    description: z.string().optional(),
    fields: z.array(SchemaFieldShape).optional(),
  }),
);
export const SchemaDatasetFacet = facet({ fields: z.array(SchemaFieldShape).optional() });
export const DatasetVersionDatasetFacet = facet({ datasetVersion: z.string().min(1).max(1024) });
export const ColumnLineageDatasetFacet = facet({ fields: z.record(z.string(), z.unknown()) });
export const DatasourceDatasetFacet = facet({ name: z.string().optional(), uri: z.string().optional() });

/** A facet map: the named facets typed, any other kept as a custom facet; bounded as a whole. */
const facetMap = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z
    .object(shape)
    .catchall(CustomFacet)
    .refine((value) => jsonDepthAtMost(value, Limits.maxJsonDepth), {
      message: `facets nest at most ${Limits.maxJsonDepth} deep (maxJsonDepth)`,
      abort: true,
    })
    .refine(
      (value) => new TextEncoder().encode(JSON.stringify(value)).length <= OpenLineageLimits.maxFacetsBytes,
      `a facet map is at most ${OpenLineageLimits.maxFacetsBytes} bytes`,
    );

export const RunFacets = facetMap({
  parent: ParentRunFacet.optional(),
  nominalTime: NominalTimeRunFacet.optional(),
  errorMessage: ErrorMessageRunFacet.optional(),
  tags: TagsFacet.optional(),
});
export const JobFacets = facetMap({
  jobType: JobTypeJobFacet.optional(),
  documentation: DocumentationFacet.optional(),
  sourceCode: SourceCodeJobFacet.optional(),
  sourceCodeLocation: SourceCodeLocationJobFacet.optional(),
  ownership: OwnershipFacet.optional(),
  sql: SQLJobFacet.optional(),
  tags: TagsFacet.optional(),
});
export const DatasetFacets = facetMap({
  schema: SchemaDatasetFacet.optional(),
  documentation: DocumentationFacet.optional(),
  dataSource: DatasourceDatasetFacet.optional(),
  version: DatasetVersionDatasetFacet.optional(),
  columnLineage: ColumnLineageDatasetFacet.optional(),
  ownership: OwnershipFacet.optional(),
  tags: TagsFacet.optional(),
});
const IoFacets = facetMap({});

export const OpenLineageRun = z.looseObject({ runId: OpenLineageRunId, facets: RunFacets.optional() });
export const OpenLineageJob = z.looseObject({ namespace: Name, name: Name, facets: JobFacets.optional() });
const datasetShape = { namespace: Name, name: Name, facets: DatasetFacets.optional() };
export const StaticDataset = z.looseObject(datasetShape);
export const InputDataset = z.looseObject({ ...datasetShape, inputFacets: IoFacets.optional() });
export const OutputDataset = z.looseObject({ ...datasetShape, outputFacets: IoFacets.optional() });

export const EventType = z.enum(["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]);
export type EventType = z.infer<typeof EventType>;

const baseEvent = { eventTime: OpenLineageTime, producer: Uri, schemaURL: Uri.optional() };
const datasets = <Item extends z.ZodType>(item: Item) =>
  z
    .array(item)
    .max(OpenLineageLimits.maxDatasetsPerEvent, `at most ${OpenLineageLimits.maxDatasetsPerEvent} datasets per event`);

export const RunEvent = z.looseObject({
  ...baseEvent,
  eventType: EventType.optional(),
  run: OpenLineageRun,
  job: OpenLineageJob,
  inputs: datasets(InputDataset).optional(),
  outputs: datasets(OutputDataset).optional(),
});
export const DatasetEvent = z.looseObject({ ...baseEvent, dataset: StaticDataset });
export const JobEvent = z.looseObject({
  ...baseEvent,
  job: OpenLineageJob,
  inputs: datasets(InputDataset).optional(),
  outputs: datasets(OutputDataset).optional(),
});
export type RunEvent = z.output<typeof RunEvent>;
export type DatasetEvent = z.output<typeof DatasetEvent>;
export type JobEvent = z.output<typeof JobEvent>;
export type InputDataset = z.output<typeof InputDataset>;
export type OutputDataset = z.output<typeof OutputDataset>;

/** The kind of an event, as 2-0-2 tells them apart: a dataset, or a run, or else a job. */
export type OpenLineageEventKind = "dataset" | "run" | "job";
export function openLineageEventKind(value: unknown): OpenLineageEventKind {
  if (value !== null && typeof value === "object") {
    if ("dataset" in value) return "dataset";
    if ("run" in value) return "run";
  }
  return "job";
}
export const eventSchemaOf = { run: RunEvent, dataset: DatasetEvent, job: JobEvent } as const;

export type OpenLineageEvent =
  | { kind: "run"; event: RunEvent }
  | { kind: "dataset"; event: DatasetEvent }
  | { kind: "job"; event: JobEvent };

/** One event, checked by the schema of its kind (so a 400 names the field of that kind, not of a union). */
export const OpenLineageEventBody = z.unknown().transform((value, ctx): OpenLineageEvent => {
  const kind = openLineageEventKind(value);
  const parsed = eventSchemaOf[kind].safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: "custom" } as never);
    return z.NEVER;
  }
  return { kind, event: parsed.data } as OpenLineageEvent;
});
export const OpenLineageBatchBody = z
  .array(z.unknown())
  .min(1, "a batch holds at least one event")
  .max(OpenLineageLimits.maxEventsPerBatch, `a batch holds at most ${OpenLineageLimits.maxEventsPerBatch} events`);

/**
 * `POST /api/v1/lineage[/batch]?project=`: the project OpenLineage data lands in (also the
 * `x-pedigree-project` header); `openlineage` by default.
 */
export const OpenLineageTarget = z.object({ project: ProjectName.default("openlineage") });
export const defaultOpenLineageProject = "openlineage";

export const LineageIngestResponse = z.object({
  project: ProjectName,
  accepted: z.number().int(),
  /** The Pedigree run each run event landed in. */
  runs: z.array(z.object({ openLineageRunId: z.string(), runId: z.string() })),
});
export type LineageIngestResponse = z.infer<typeof LineageIngestResponse>;

/** `GET /api/v1/projects/:project/runs/:id/openlineage`: the run as OpenLineage events. */
export const RunOpenLineageEvents = z.object({ events: z.array(RunEvent) });
export type RunOpenLineageEvents = z.infer<typeof RunOpenLineageEvents>;

/** What a run or a version keeps of OpenLineage: its identity and its facets, shown in node details. */
export const RunOpenLineage = z.object({
  runId: z.string(),
  namespace: z.string(),
  name: z.string(),
  parent: z.object({ runId: z.string(), namespace: z.string(), name: z.string() }).nullable(),
  runFacets: z.record(z.string(), z.unknown()),
  jobFacets: z.record(z.string(), z.unknown()),
});
export type RunOpenLineage = z.infer<typeof RunOpenLineage>;
export const DatasetOpenLineage = z.object({
  namespace: z.string(),
  name: z.string(),
  /** The `datasetVersion` facet that named this version, when one did. */
  datasetVersion: z.string().nullable(),
  facets: z.record(z.string(), z.unknown()),
});
export type DatasetOpenLineage = z.infer<typeof DatasetOpenLineage>;

/** Lineage nodes name OpenLineage entities as Marquez writes them. */
export const openLineageNodeId = {
  dataset: (namespace: string, name: string) => `dataset:${namespace}:${name}`,
  job: (namespace: string, name: string) => `job:${namespace}:${name}`,
  run: (runId: string) => `run:${runId}`,
};

/** A node named explicitly, for names that hold the `:` delimiter. */
export type OpenLineageNodeName = { kind: "dataset" | "job"; namespace: string; name: string };

/**
 * The readings of an OpenLineage node id: `run:<uuid>`, or `dataset|job:<namespace>:<name>` split at each `:`
 * (namespaces like `gs://bucket` hold one too), or null when `text` is not one. The server takes the reading
 * that names an entity it has.
 */
export function parseOpenLineageNodeId(
  text: string,
):
  | { kind: "run"; runId: string }
  | { kind: "dataset" | "job"; candidates: { namespace: string; name: string }[] }
  | null {
  const run = /^run:(.+)$/.exec(text);
  if (run?.[1]) {
    const id = OpenLineageRunId.safeParse(run[1]);
    return id.success ? { kind: "run", runId: id.data } : null;
  }
  const named = /^(dataset|job):(.+)$/.exec(text);
  if (!named?.[1] || !named[2]) return null;
  const rest = named[2];
  const candidates: { namespace: string; name: string }[] = [];
  for (let at = rest.indexOf(":"); at !== -1; at = rest.indexOf(":", at + 1)) {
    const namespace = rest.slice(0, at);
    const name = rest.slice(at + 1);
    if (namespace && name) candidates.push({ namespace, name });
  }
  return candidates.length > 0 ? { kind: named[1] as "dataset" | "job", candidates } : null;
}
