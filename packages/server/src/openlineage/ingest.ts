/**
 * OpenLineage events into Pedigree's graph (docs/openlineage.md): a run event's run becomes a Pedigree run,
 * each dataset an artifact, each dataset version a committed version, inputs and outputs the run's edges.
 * Everything is keyed by identities that are the same on every re-post (run ids derived from runIds,
 * digests from what names a version, edges unique), and every merge is by event time, so re-posting changes
 * nothing and events of one run give the same result in any order.
 *
 * These runs are written here, not through runs/service.ts: an OpenLineage run may list inputs on an event
 * that arrives after its COMPLETE (the spec allows them on any event), which the SDK's rules refuse.
 */
import type {
  DatasetEvent,
  InputDataset,
  JobEvent,
  OpenLineageEvent,
  OutputDataset,
  RunEvent,
  RunState,
} from "@pedigree/protocol";
import { and, desc, eq, isNull, lte, ne, or, sql } from "drizzle-orm";
import type { WriteContext } from "../artifacts/versions";
import { randomId } from "../auth/keys";
import type { Db } from "../db/client";
import {
  artifacts,
  openlineageDatasets,
  openlineageRuns,
  openlineageVersions,
  projects,
  runInputs,
  runOutputs,
  runs,
  versions,
} from "../db/schema";
import { conflict } from "../errors";
import { ensureProject } from "../projects";
import { datasetArtifactName, datasetVersionDigest, derivedUuid, jobTypeOf, pedigreeRunIdOf } from "./identity";
import { isTerminalRank, runStateOfRank, type StateKey, stateKeyOf, supersedes } from "./run-state";

export interface IngestedRun {
  openLineageRunId: string;
  runId: string;
}

/** Applies `events` in order, in the caller's transaction; answers the runs they landed in. */
export async function ingestEvents(tx: Db, ctx: WriteContext, events: OpenLineageEvent[]): Promise<IngestedRun[]> {
  await ensureProject(tx, ctx);
  const landed = new Map<string, string>();
  for (const item of events) {
    if (item.kind === "dataset") {
      await ingestDatasetEvent(tx, ctx, item.event);
      continue;
    }
    const event = item.kind === "run" ? item.event : asRunEvent(item.event);
    const runId = await ingestRunEvent(tx, ctx, event);
    landed.set(event.run.runId, runId);
  }
  return [...landed].map(([openLineageRunId, runId]) => ({ openLineageRunId, runId }));
}

/**
 * A job event declares a job's lineage without a run: it is kept as one run standing for the job (its runId
 * derived from the job's identity), finished at the event's time.
 */
function asRunEvent(event: JobEvent): RunEvent {
  const runId = derivedUuid(`openlineage-job\n${event.job.namespace}\n${event.job.name}`);
  return { ...event, eventType: "COMPLETE", run: { runId } };
}

const eventTimeOf = (text: string) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);

async function ingestRunEvent(tx: Db, ctx: WriteContext, event: RunEvent): Promise<string> {
  const at = eventTimeOf(event.eventTime);
  const run = await lockRun(tx, ctx, event, at);
  await applyRunEvent(tx, run, event, at);
  for (const input of event.inputs ?? []) await recordDatasetInput(tx, ctx, run, input, at);
  for (const output of event.outputs ?? []) await recordDatasetOutput(tx, ctx, run, output, at);
  return run.runId;
}

type OpenLineageRunRow = typeof openlineageRuns.$inferSelect;

/** The run of this event, made on its first event, locked until the transaction ends. */
async function lockRun(tx: Db, ctx: WriteContext, event: RunEvent, at: Date): Promise<OpenLineageRunRow> {
  const runId = pedigreeRunIdOf(ctx.project, event.run.runId);
  const [existing] = await tx.select().from(openlineageRuns).where(eq(openlineageRuns.runId, runId)).for("update");
  if (existing) return sameRun(existing, ctx.project, event.run.runId);
  const ordinal = await nextOrdinal(tx, ctx.project);
  const created = await tx
    .insert(runs)
    .values({
      id: runId,
      project: ctx.project,
      name: event.job.name,
      ordinal,
      jobType: jobTypeOf(event.job.facets?.jobType),
      createdBy: ctx.actor,
      startedAt: at,
      heartbeatAt: at,
    })
    .onConflictDoNothing({ target: runs.id })
    .returning({ id: runs.id });
  if (created.length === 0) {
    // A run of the SDK holds the id this runId maps to (a hash collision, or a run made to squat on it).
    throw conflict(`OpenLineage run '${event.run.runId}' cannot be recorded in project '${ctx.project}'`, "run.runId");
  }
  const [row] = await tx
    .insert(openlineageRuns)
    .values({
      runId,
      project: ctx.project,
      openlineageRunId: event.run.runId,
      jobNamespace: event.job.namespace,
      jobName: event.job.name,
      facetsEventTime: at,
    })
    .returning();
  if (!row) throw new Error("openlineage run insert returned no row");
  return row;
}

function sameRun(row: OpenLineageRunRow, project: string, openlineageRunId: string): OpenLineageRunRow {
  if (row.project !== project || row.openlineageRunId !== openlineageRunId) {
    throw conflict(`OpenLineage run '${openlineageRunId}' cannot be recorded in project '${project}'`, "run.runId");
  }
  return row;
}

async function nextOrdinal(tx: Db, project: string): Promise<number> {
  const [counter] = await tx
    .update(projects)
    .set({ runCount: sql`${projects.runCount} + 1` })
    .where(eq(projects.name, project))
    .returning({ ordinal: projects.runCount });
  return counter?.ordinal ?? 1;
}

/** Merges one facet map into another: a facet of a newer event replaces the same facet of an older one. */
function mergeFacets(
  stored: Record<string, unknown>,
  storedTime: Date,
  incoming: Record<string, unknown> | undefined,
  at: Date,
): Record<string, unknown> {
  if (!incoming || Object.keys(incoming).length === 0) return stored;
  return at.getTime() >= storedTime.getTime() ? { ...stored, ...incoming } : { ...incoming, ...stored };
}

/** State, times, job type, facets and parent, each merged by event time. */
async function applyRunEvent(tx: Db, row: OpenLineageRunRow, event: RunEvent, at: Date) {
  const runFacets = mergeFacets(row.runFacets, row.facetsEventTime, event.run.facets, at);
  const jobFacets = mergeFacets(row.jobFacets, row.facetsEventTime, event.job.facets, at);
  const parent = (runFacets.parent ?? null) as {
    run: { runId: string };
    job: { namespace: string; name: string };
  } | null;
  const current: StateKey | null = row.stateEventTime ? { time: row.stateEventTime, rank: row.stateRank } : null;
  const next = stateKeyOf(event.eventType, at);
  const moves = next !== null && supersedes(next, current);
  const facetsEventTime = at > row.facetsEventTime ? at : row.facetsEventTime;
  await tx
    .update(openlineageRuns)
    .set({
      runFacets,
      jobFacets,
      parentRunId: parent?.run.runId ?? null,
      parentJobNamespace: parent?.job.namespace ?? null,
      parentJobName: parent?.job.name ?? null,
      facetsEventTime,
      ...(moves && next ? { stateEventTime: next.time, stateRank: next.rank } : {}),
    })
    .where(eq(openlineageRuns.runId, row.runId));
  const state: RunState | undefined = moves && next ? runStateOfRank(next.rank) : undefined;
  const iso = at.toISOString();
  await tx
    .update(runs)
    .set({
      jobType: jobTypeOf(jobFacets.jobType as { jobType?: string; integration?: string } | undefined),
      startedAt: sql`least(${runs.startedAt}, ${iso}::timestamptz)`,
      heartbeatAt: sql`greatest(${runs.heartbeatAt}, ${iso}::timestamptz)`,
      ...(state ? { state, finishedAt: next && isTerminalRank(next.rank) ? at : null } : {}),
    })
    .where(eq(runs.id, row.runId));
}

type DatasetRef = Pick<InputDataset, "namespace" | "name" | "facets"> & {
  inputFacets?: Record<string, unknown> | undefined;
  outputFacets?: Record<string, unknown> | undefined;
};

interface DatasetArtifact {
  artifactId: number;
  namespace: string;
  name: string;
}

/** The artifact of a dataset, made on first sight; its row is locked, so versions number without gaps. */
async function lockDataset(tx: Db, ctx: WriteContext, dataset: DatasetRef): Promise<DatasetArtifact> {
  const name = datasetArtifactName(dataset.namespace, dataset.name);
  const [artifact] = await tx
    .insert(artifacts)
    .values({ project: ctx.project, name, type: "dataset" })
    .onConflictDoUpdate({ target: [artifacts.project, artifacts.name], set: { type: sql`${artifacts.type}` } })
    .returning({ id: artifacts.id });
  if (!artifact) throw new Error("artifact upsert returned no row");
  await tx
    .insert(openlineageDatasets)
    .values({ artifactId: artifact.id, project: ctx.project, namespace: dataset.namespace, name: dataset.name })
    .onConflictDoNothing();
  return { artifactId: artifact.id, namespace: dataset.namespace, name: dataset.name };
}

const datasetVersionOf = (dataset: DatasetRef): string | undefined =>
  (dataset.facets?.version as { datasetVersion?: string } | undefined)?.datasetVersion;

const facetsOf = (dataset: DatasetRef): Record<string, unknown> => ({
  ...dataset.facets,
  ...dataset.inputFacets,
  ...dataset.outputFacets,
});

/**
 * The version named by `key`, made when new (as the artifact's next `vN`, committed at once: an OpenLineage
 * dataset has no files), with `facets` merged in by event time.
 */
async function ensureVersion(
  tx: Db,
  ctx: WriteContext,
  dataset: DatasetArtifact,
  version: { key: string; datasetVersion: string | null; writerRunId: string | null; at: Date },
  facets: Record<string, unknown>,
): Promise<string> {
  const digest = datasetVersionDigest(dataset.namespace, dataset.name, version.key);
  const [found] = await tx
    .select({ id: versions.id })
    .from(versions)
    .where(and(eq(versions.artifactId, dataset.artifactId), eq(versions.digest, digest)));
  if (found) {
    await mergeVersion(tx, found.id, facets, version.at);
    return found.id;
  }
  const [counted] = await tx
    .update(artifacts)
    .set({ versionCount: sql`${artifacts.versionCount} + 1` })
    .where(eq(artifacts.id, dataset.artifactId))
    .returning({ versionCount: artifacts.versionCount });
  if (!counted) throw new Error("artifact vanished inside its transaction");
  const id = `av_${randomId(16)}`;
  const now = ctx.now();
  await tx.insert(versions).values({
    id,
    project: ctx.project,
    artifactId: dataset.artifactId,
    index: counted.versionCount - 1,
    state: "committed",
    digest,
    manifest: [],
    size: 0,
    fileCount: 0,
    createdBy: ctx.actor,
    createdAt: now,
    committedAt: now,
  });
  await tx.insert(openlineageVersions).values({
    versionId: id,
    artifactId: dataset.artifactId,
    datasetVersion: version.datasetVersion,
    writerRunId: version.writerRunId,
    eventTime: version.at,
    facets,
    facetsEventTime: version.at,
  });
  return id;
}

async function mergeVersion(tx: Db, versionId: string, facets: Record<string, unknown>, at: Date) {
  const [row] = await tx
    .select()
    .from(openlineageVersions)
    .where(eq(openlineageVersions.versionId, versionId))
    .for("update");
  if (!row) return;
  const merged = mergeFacets(row.facets, row.facetsEventTime, facets, at);
  await tx
    .update(openlineageVersions)
    .set({
      facets: merged,
      facetsEventTime: at > row.facetsEventTime ? at : row.facetsEventTime,
      eventTime: at < row.eventTime ? at : row.eventTime,
    })
    .where(eq(openlineageVersions.versionId, versionId));
}

/**
 * The version a reader at `at` used: the one its `datasetVersion` names; else the one this run already reads
 * (a run reads a dataset once, however many events list it); else the newest written by another run as of
 * `at`; else the dataset as first seen.
 */
async function readVersion(
  tx: Db,
  ctx: WriteContext,
  run: OpenLineageRunRow,
  dataset: DatasetArtifact,
  ref: DatasetRef,
  at: Date,
): Promise<string> {
  const facets = facetsOf(ref);
  const named = datasetVersionOf(ref);
  if (named) {
    return ensureVersion(
      tx,
      ctx,
      dataset,
      { key: `datasetVersion\n${named}`, datasetVersion: named, writerRunId: null, at },
      facets,
    );
  }
  const [read] = await tx
    .select({ versionId: runInputs.versionId })
    .from(runInputs)
    .innerJoin(versions, eq(versions.id, runInputs.versionId))
    .where(and(eq(runInputs.runId, run.runId), eq(versions.artifactId, dataset.artifactId)))
    .limit(1);
  const [newest] = read
    ? [read]
    : await tx
        .select({ versionId: openlineageVersions.versionId })
        .from(openlineageVersions)
        .where(
          and(
            eq(openlineageVersions.artifactId, dataset.artifactId),
            lte(openlineageVersions.eventTime, at),
            or(isNull(openlineageVersions.writerRunId), ne(openlineageVersions.writerRunId, run.runId)),
          ),
        )
        .orderBy(desc(openlineageVersions.eventTime), desc(openlineageVersions.versionId))
        .limit(1);
  if (newest) {
    await mergeVersion(tx, newest.versionId, facets, at);
    return newest.versionId;
  }
  return ensureVersion(tx, ctx, dataset, { key: "observed", datasetVersion: null, writerRunId: null, at }, facets);
}

async function recordDatasetInput(tx: Db, ctx: WriteContext, run: OpenLineageRunRow, input: InputDataset, at: Date) {
  const dataset = await lockDataset(tx, ctx, input);
  const versionId = await readVersion(tx, ctx, run, dataset, input, at);
  await tx
    .insert(runInputs)
    .values({
      runId: run.runId,
      versionId,
      requestedRef: `dataset:${input.namespace}:${input.name}`,
      createdAt: ctx.now(),
    })
    .onConflictDoNothing();
}

async function recordDatasetOutput(tx: Db, ctx: WriteContext, run: OpenLineageRunRow, output: OutputDataset, at: Date) {
  const dataset = await lockDataset(tx, ctx, output);
  const named = datasetVersionOf(output);
  const versionId = await ensureVersion(
    tx,
    ctx,
    dataset,
    named
      ? { key: `datasetVersion\n${named}`, datasetVersion: named, writerRunId: null, at }
      : { key: `run\n${run.openlineageRunId}`, datasetVersion: null, writerRunId: run.runId, at },
    facetsOf(output),
  );
  await tx.insert(runOutputs).values({ runId: run.runId, versionId, createdAt: ctx.now() }).onConflictDoNothing();
}

/** A dataset event describes a dataset: its facets go to the version named, or the newest as of the event. */
async function ingestDatasetEvent(tx: Db, ctx: WriteContext, event: DatasetEvent) {
  const at = eventTimeOf(event.eventTime);
  const dataset = await lockDataset(tx, ctx, event.dataset);
  const facets = event.dataset.facets ?? {};
  const named = datasetVersionOf(event.dataset);
  if (named) {
    await ensureVersion(
      tx,
      ctx,
      dataset,
      { key: `datasetVersion\n${named}`, datasetVersion: named, writerRunId: null, at },
      facets,
    );
    return;
  }
  const [newest] = await tx
    .select({ versionId: openlineageVersions.versionId })
    .from(openlineageVersions)
    .where(and(eq(openlineageVersions.artifactId, dataset.artifactId), lte(openlineageVersions.eventTime, at)))
    .orderBy(desc(openlineageVersions.eventTime), desc(openlineageVersions.versionId))
    .limit(1);
  if (newest) await mergeVersion(tx, newest.versionId, facets, at);
  else await ensureVersion(tx, ctx, dataset, { key: "observed", datasetVersion: null, writerRunId: null, at }, facets);
}
