/**
 * A Pedigree run as OpenLineage run events (docs/openlineage.md, "Out"): START with its inputs, then its
 * terminal event (or, while it runs, a RUNNING one once it has outputs) with inputs and outputs. Datasets
 * carry a `version` facet holding the version's digest; the run's config and job type are facets. Runs and
 * datasets that came from OpenLineage keep their own identities and facets; Pedigree's own are in the
 * namespace `pedigree://<project>`, jobs named by the run's display name.
 */
import type { EventType, RunEvent } from "@pedigree/protocol";
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import {
  artifacts,
  openlineageDatasets,
  openlineageRuns,
  openlineageVersions,
  runInputs,
  runOutputs,
  runs,
  versions,
} from "../db/schema";
import { notFound } from "../errors";
import { derivedUuid, pedigreeNamespace } from "./identity";

const PRODUCER = "urn:pedigree:server";
const RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
const facetSchema = {
  version: "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
  jobType: "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
  errorMessage: "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
  pedigreeRun: "urn:pedigree:facets:PedigreeRunFacet",
};
const facet = (schemaURL: string, body: Record<string, unknown>) => ({
  _producer: PRODUCER,
  _schemaURL: schemaURL,
  ...body,
});

/** The OpenLineage runId of a Pedigree run: its own when it came from OpenLineage, else one derived from its id. */
export const openLineageRunIdOf = (runId: string, kept: string | null | undefined) =>
  kept ?? derivedUuid(`pedigree-run\n${runId}`);

const terminalEventOf: Record<string, EventType> = {
  finished: "COMPLETE",
  failed: "FAIL",
  crashed: "FAIL",
  aborted: "ABORT",
};

type Dataset = NonNullable<RunEvent["inputs"]>[number];

export async function exportRunEvents(db: Db, project: string, runId: string): Promise<RunEvent[]> {
  const [row] = await db
    .select({ run: runs, openlineage: openlineageRuns })
    .from(runs)
    .leftJoin(openlineageRuns, eq(openlineageRuns.runId, runs.id))
    .where(and(eq(runs.id, runId), eq(runs.project, project)));
  if (!row) throw notFound(`run '${runId}' in project '${project}'`, "runId");
  const { run, openlineage } = row;
  const [inputs, outputs] = await Promise.all([
    datasetsOf(db, project, runInputs, runId),
    datasetsOf(db, project, runOutputs, runId),
  ]);
  const runFacets: Record<string, unknown> = {
    ...openlineage?.runFacets,
    pedigree: facet(facetSchema.pedigreeRun, {
      project,
      runId: run.id,
      jobType: run.jobType,
      config: run.config,
      tags: run.tags,
    }),
  };
  if (run.state === "crashed") {
    runFacets.errorMessage = facet(facetSchema.errorMessage, {
      message: "the run stopped heartbeating (crashed)",
      programmingLanguage: "TypeScript",
    });
  }
  const job = {
    namespace: openlineage?.jobNamespace ?? pedigreeNamespace(project),
    name: openlineage?.jobName ?? run.name,
    facets: {
      ...openlineage?.jobFacets,
      jobType: facet(facetSchema.jobType, {
        processingType: "BATCH",
        integration: openlineage ? "OPENLINEAGE" : "PEDIGREE",
        jobType: run.jobType,
      }),
    },
  };
  const base = (eventType: EventType, at: Date, withOutputs: boolean): RunEvent => ({
    eventType,
    eventTime: at.toISOString(),
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA,
    run: { runId: openLineageRunIdOf(run.id, openlineage?.openlineageRunId), facets: runFacets as never },
    job: job as never,
    inputs,
    outputs: withOutputs ? outputs : [],
  });
  const events = [base("START", run.startedAt, false)];
  const terminal = terminalEventOf[run.state];
  if (terminal) events.push(base(terminal, run.finishedAt ?? run.heartbeatAt, true));
  else if (outputs.length > 0) events.push(base("RUNNING", run.heartbeatAt, true));
  return events;
}

/** The run's inputs or outputs as OpenLineage datasets, in edge order. */
async function datasetsOf(
  db: Db,
  project: string,
  edges: typeof runInputs | typeof runOutputs,
  runId: string,
): Promise<Dataset[]> {
  const rows = await db
    .select({
      artifact: artifacts.name,
      artifactProject: artifacts.project,
      digest: versions.digest,
      namespace: openlineageDatasets.namespace,
      name: openlineageDatasets.name,
      facets: openlineageVersions.facets,
    })
    .from(edges)
    .innerJoin(versions, eq(versions.id, edges.versionId))
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .leftJoin(openlineageDatasets, eq(openlineageDatasets.artifactId, artifacts.id))
    .leftJoin(openlineageVersions, eq(openlineageVersions.versionId, versions.id))
    .where(eq(edges.runId, runId))
    .orderBy(asc(edges.createdAt), asc(versions.id));
  return rows.map((row) => ({
    namespace: row.namespace ?? pedigreeNamespace(row.artifactProject ?? project),
    name: row.name ?? row.artifact,
    facets: {
      ...(row.facets ?? {}),
      version: facet(facetSchema.version, { datasetVersion: row.digest }),
    } as never,
  }));
}
