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
import { and, desc, eq, inArray, isNull, lte, ne, or, sql } from "drizzle-orm";
import type { WriteContext } from "../artifacts/versions";
import { randomId } from "../auth/keys";
import type { Database, Db } from "../db/client";
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
import type { RunOrdinals } from "../runs/ordinals";
import { datasetArtifactName, datasetVersionDigest, derivedUuid, jobTypeOf, pedigreeRunIdOf } from "./identity";
import { isTerminalRank, runStateOfRank, type StateKey, stateKeyOf, supersedes } from "./run-state";

export interface IngestedRun {
  openLineageRunId: string;
  runId: string;
}

/**
 * What one batch has locked and made, so each row is locked once, in one order: runs by id, then datasets by
 * artifact name. Concurrent batches that share runs or datasets then wait for each other, never deadlock.
 */
interface Batch {
  runs: Map<string, OpenLineageRunRow>;
  datasets: Map<string, DatasetArtifact>;
  /** Ordinals reserved before the transaction for the runs it makes (see `reserveRunOrdinals`). */
  ordinals: number[];
}

const runEventOf = (item: OpenLineageEvent): RunEvent | null =>
  item.kind === "run" ? item.event : item.kind === "job" ? asRunEvent(item.event) : null;

const datasetKey = (dataset: { namespace: string; name: string }) => `${dataset.namespace}\n${dataset.name}`;

/**
 * Reserves run ordinals for the runs `events` will make (those the project does not have yet), outside the
 * ingest transaction, as run creation does: the project row is never held locked by a batch.
 */
export async function reserveRunOrdinals(
  database: Database,
  ordinals: RunOrdinals,
  project: string,
  events: OpenLineageEvent[],
): Promise<number[]> {
  const runIds = [...new Set(events.flatMap((item) => runEventOf(item)?.run.runId ?? []))];
  if (runIds.length === 0) return [];
  const known = await database.read((db) =>
    db
      .select({ runId: openlineageRuns.openlineageRunId })
      .from(openlineageRuns)
      .where(and(eq(openlineageRuns.project, project), inArray(openlineageRuns.openlineageRunId, runIds))),
  );
  const reserved: number[] = [];
  for (let count = runIds.length - known.length; count > 0; count--) {
    const ordinal = await ordinals.next(database, project);
    if (ordinal === null) break;
    reserved.push(ordinal);
  }
  return reserved;
}

/** Applies `events` in order, in the caller's transaction; answers the runs they landed in. */
export async function ingestEvents(
  tx: Db,
  ctx: WriteContext,
  events: OpenLineageEvent[],
  reservedOrdinals: number[] = [],
): Promise<IngestedRun[]> {
  await ensureProject(tx, ctx);
  const batch: Batch = { runs: new Map(), datasets: new Map(), ordinals: [...reservedOrdinals] };
  const runEvents = events.flatMap((item) => runEventOf(item) ?? []);
  // Each run is made from its earliest event here, so its first name and start do not depend on order.
  const firstEvents = new Map<string, RunEvent>();
  for (const event of runEvents) {
    const first = firstEvents.get(event.run.runId);
    if (!first || eventTimeOf(event.eventTime) < eventTimeOf(first.eventTime)) firstEvents.set(event.run.runId, event);
  }
  const runOrder = [...firstEvents.values()].sort((a, b) =>
    pedigreeRunIdOf(ctx.project, a.run.runId).localeCompare(pedigreeRunIdOf(ctx.project, b.run.runId)),
  );
  await topUpOrdinals(tx, ctx.project, batch, runOrder);
  for (const event of runOrder) {
    batch.runs.set(event.run.runId, await lockRun(tx, ctx, batch, event, eventTimeOf(event.eventTime)));
  }
  const datasets = new Map<string, DatasetRef>();
  for (const item of events) {
    const listed =
      item.kind === "dataset" ? [item.event.dataset] : [...(item.event.inputs ?? []), ...(item.event.outputs ?? [])];
    for (const dataset of listed) datasets.set(datasetKey(dataset), dataset);
  }
  const datasetOrder = [...datasets.values()]
    .map((dataset) => ({ dataset, name: datasetArtifactName(dataset.namespace, dataset.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const { dataset, name } of datasetOrder) {
    batch.datasets.set(datasetKey(dataset), await lockDataset(tx, ctx, dataset, name));
  }

  const landed = new Map<string, string>();
  for (const item of events) {
    if (item.kind === "dataset") {
      await ingestDatasetEvent(tx, ctx, batch, item.event);
      continue;
    }
    const event = runEventOf(item) as RunEvent;
    landed.set(event.run.runId, await ingestRunEvent(tx, ctx, batch, event));
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

async function ingestRunEvent(tx: Db, ctx: WriteContext, batch: Batch, event: RunEvent): Promise<string> {
  const at = eventTimeOf(event.eventTime);
  const run = batch.runs.get(event.run.runId) as OpenLineageRunRow;
  batch.runs.set(event.run.runId, await applyRunEvent(tx, run, event, at));
  for (const input of event.inputs ?? []) await recordDatasetInput(tx, ctx, batch, run, input, at);
  for (const output of event.outputs ?? []) await recordDatasetOutput(tx, ctx, batch, run, output, at);
  return run.runId;
}

type OpenLineageRunRow = typeof openlineageRuns.$inferSelect;

/** The run of this event, made on its first event, locked until the transaction ends. */
async function lockRun(tx: Db, ctx: WriteContext, batch: Batch, event: RunEvent, at: Date): Promise<OpenLineageRunRow> {
  const runId = pedigreeRunIdOf(ctx.project, event.run.runId);
  const [existing] = await tx.select().from(openlineageRuns).where(eq(openlineageRuns.runId, runId)).for("update");
  if (existing) return sameRun(existing, ctx.project, event.run.runId);
  const ordinal = batch.ordinals.shift() ?? (await lateOrdinal(tx, ctx.project));
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
    // Another batch made this run meanwhile (its insert held ours until it committed)…
    const [raced] = await tx.select().from(openlineageRuns).where(eq(openlineageRuns.runId, runId)).for("update");
    if (raced) return sameRun(raced, ctx.project, event.run.runId);
    // …or a run of the SDK holds the id this runId maps to (a hash collision, or a run made to squat on it).
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

/**
 * Ordinals for the runs this batch makes that none were reserved for (a project made by this batch): taken
 * from the project row before any run is locked, so the project row is always locked first.
 */
async function topUpOrdinals(tx: Db, project: string, batch: Batch, runOrder: RunEvent[]) {
  if (runOrder.length === 0) return;
  const known = await tx
    .select({ runId: openlineageRuns.openlineageRunId })
    .from(openlineageRuns)
    .where(
      and(
        eq(openlineageRuns.project, project),
        inArray(
          openlineageRuns.openlineageRunId,
          runOrder.map((event) => event.run.runId),
        ),
      ),
    );
  const missing = runOrder.length - known.length - batch.ordinals.length;
  if (missing <= 0) return;
  const [counter] = await tx
    .update(projects)
    .set({ runCount: sql`${projects.runCount} + ${missing}` })
    .where(eq(projects.name, project))
    .returning({ end: projects.runCount });
  const end = counter?.end ?? missing;
  for (let ordinal = end - missing + 1; ordinal <= end; ordinal++) batch.ordinals.push(ordinal);
}

/** A run made in a race with another batch past the top-up: numbered without taking the project row. */
async function lateOrdinal(tx: Db, project: string): Promise<number> {
  const [row] = await tx.select({ count: projects.runCount }).from(projects).where(eq(projects.name, project));
  return row?.count ?? 0;
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

/** State, times, job type, facets and parent, each merged by event time; answers the row as it now is. */
async function applyRunEvent(tx: Db, row: OpenLineageRunRow, event: RunEvent, at: Date): Promise<OpenLineageRunRow> {
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
  const updated: OpenLineageRunRow = {
    ...row,
    runFacets,
    jobFacets,
    parentRunId: parent?.run.runId ?? null,
    parentJobNamespace: parent?.job.namespace ?? null,
    parentJobName: parent?.job.name ?? null,
    facetsEventTime,
    ...(moves && next ? { stateEventTime: next.time, stateRank: next.rank } : {}),
  };
  const { runId: _runId, ...columns } = updated;
  await tx.update(openlineageRuns).set(columns).where(eq(openlineageRuns.runId, row.runId));
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
  return updated;
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
async function lockDataset(tx: Db, ctx: WriteContext, dataset: DatasetRef, name: string): Promise<DatasetArtifact> {
  const [artifact] = await tx
    .insert(artifacts)
    .values({ project: ctx.project, name, type: "dataset" })
    .onConflictDoUpdate({ target: [artifacts.project, artifacts.name], set: { type: sql`${artifacts.type}` } })
    .returning({ id: artifacts.id, type: artifacts.type });
  if (!artifact) throw new Error("artifact upsert returned no row");
  if (artifact.type !== "dataset") {
    throw conflict(`artifact '${name}' of dataset '${dataset.name}' is of type '${artifact.type}'`, "dataset");
  }
  await tx
    .insert(openlineageDatasets)
    .values({ artifactId: artifact.id, project: ctx.project, namespace: dataset.namespace, name: dataset.name })
    .onConflictDoNothing();
  return { artifactId: artifact.id, namespace: dataset.namespace, name: dataset.name };
}

const datasetOf = (batch: Batch, dataset: { namespace: string; name: string }) =>
  batch.datasets.get(datasetKey(dataset)) as DatasetArtifact;

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

async function recordDatasetInput(
  tx: Db,
  ctx: WriteContext,
  batch: Batch,
  run: OpenLineageRunRow,
  input: InputDataset,
  at: Date,
) {
  const dataset = datasetOf(batch, input);
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

async function recordDatasetOutput(
  tx: Db,
  ctx: WriteContext,
  batch: Batch,
  run: OpenLineageRunRow,
  output: OutputDataset,
  at: Date,
) {
  const dataset = datasetOf(batch, output);
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
async function ingestDatasetEvent(tx: Db, ctx: WriteContext, batch: Batch, event: DatasetEvent) {
  const at = eventTimeOf(event.eventTime);
  const dataset = datasetOf(batch, event.dataset);
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
