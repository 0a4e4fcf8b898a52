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
import type { WriteContext } from "../write-context";
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
  /** What the batch's events did to each run's `runs` row, written once at the end. */
  runChanges: Map<string, RunChange>;
  /** Versions by `artifactId\ndigest`, and the facet rows of versions touched, written once at the end. */
  versionIds: Map<string, string>;
  versionRows: Map<string, VersionRow>;
  /** The version each run reads of each dataset (`runId\nartifactId`), and the edges to write. */
  reads: Map<string, string>;
  inputs: Map<string, { runId: string; versionId: string; requestedRef: string }>;
  outputs: Map<string, { runId: string; versionId: string }>;
  /** Runs made by this batch: they have no edges in the database yet. */
  madeRuns: Set<string>;
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
  const batch: Batch = {
    runs: new Map(),
    datasets: new Map(),
    runChanges: new Map(),
    versionIds: new Map(),
    versionRows: new Map(),
    reads: new Map(),
    inputs: new Map(),
    outputs: new Map(),
    madeRuns: new Set(),
    ordinals: [...reservedOrdinals],
  };
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
  await writeBatch(tx, ctx, batch);
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
  batch.runs.set(event.run.runId, applyRunEvent(batch, run, event, at));
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
  batch.madeRuns.add(runId);
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

interface RunChange {
  earliest: Date;
  latest: Date;
  /** Set when an event of the batch moved the state. */
  state?: { state: RunState; finishedAt: Date | null };
}

/** State, times, job type, facets and parent, each merged by event time; answers the row as it now is. */
function applyRunEvent(batch: Batch, row: OpenLineageRunRow, event: RunEvent, at: Date): OpenLineageRunRow {
  const runFacets = mergeFacets(row.runFacets, row.facetsEventTime, event.run.facets, at);
  const jobFacets = mergeFacets(row.jobFacets, row.facetsEventTime, event.job.facets, at);
  const parent = (runFacets.parent ?? null) as {
    run: { runId: string };
    job: { namespace: string; name: string };
  } | null;
  const current: StateKey | null = row.stateEventTime ? { time: row.stateEventTime, rank: row.stateRank } : null;
  const next = stateKeyOf(event.eventType, at);
  const moves = next !== null && supersedes(next, current);
  const change = batch.runChanges.get(row.runId) ?? { earliest: at, latest: at };
  batch.runChanges.set(row.runId, {
    earliest: at < change.earliest ? at : change.earliest,
    latest: at > change.latest ? at : change.latest,
    ...(moves && next
      ? { state: { state: runStateOfRank(next.rank), finishedAt: isTerminalRank(next.rank) ? at : null } }
      : change.state
        ? { state: change.state }
        : {}),
  });
  return {
    ...row,
    runFacets,
    jobFacets,
    parentRunId: parent?.run.runId ?? null,
    parentJobNamespace: parent?.job.namespace ?? null,
    parentJobName: parent?.job.name ?? null,
    facetsEventTime: at > row.facetsEventTime ? at : row.facetsEventTime,
    ...(moves && next ? { stateEventTime: next.time, stateRank: next.rank } : {}),
  };
}

/** Writes what the batch changed: each run once, each touched version's facets once, the edges in bulk. */
async function writeBatch(tx: Db, ctx: WriteContext, batch: Batch) {
  for (const row of batch.runs.values()) {
    const { runId, ...columns } = row;
    const change = batch.runChanges.get(runId);
    if (!change) continue;
    await tx.update(openlineageRuns).set(columns).where(eq(openlineageRuns.runId, runId));
    await tx
      .update(runs)
      .set({
        jobType: jobTypeOf(row.jobFacets.jobType as { jobType?: string; integration?: string } | undefined),
        startedAt: sql`least(${runs.startedAt}, ${change.earliest.toISOString()}::timestamptz)`,
        heartbeatAt: sql`greatest(${runs.heartbeatAt}, ${change.latest.toISOString()}::timestamptz)`,
        ...(change.state ?? {}),
      })
      .where(eq(runs.id, runId));
  }
  for (const row of batch.versionRows.values()) {
    if (!row.dirty) continue;
    await tx
      .update(openlineageVersions)
      .set({ facets: row.facets, facetsEventTime: row.facetsEventTime })
      .where(eq(openlineageVersions.versionId, row.versionId));
  }
  const now = ctx.now();
  const inputs = [...batch.inputs.values()];
  for (let start = 0; start < inputs.length; start += 1000) {
    const chunk = inputs.slice(start, start + 1000).map((edge) => ({ ...edge, createdAt: now }));
    await tx.insert(runInputs).values(chunk).onConflictDoNothing();
  }
  const outputs = [...batch.outputs.values()];
  for (let start = 0; start < outputs.length; start += 1000) {
    const chunk = outputs.slice(start, start + 1000).map((edge) => ({ ...edge, createdAt: now }));
    await tx.insert(runOutputs).values(chunk).onConflictDoNothing();
  }
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
  batch: Batch,
  dataset: DatasetArtifact,
  version: { key: string; datasetVersion: string | null; writerRunId: string | null; at: Date },
  facets: Record<string, unknown>,
): Promise<string> {
  const digest = datasetVersionDigest(dataset.namespace, dataset.name, version.key);
  const cacheKey = `${dataset.artifactId}\n${digest}`;
  const cached = batch.versionIds.get(cacheKey);
  const [found] = cached
    ? [{ id: cached }]
    : await tx
        .select({ id: versions.id })
        .from(versions)
        .where(and(eq(versions.artifactId, dataset.artifactId), eq(versions.digest, digest)));
  if (found) {
    batch.versionIds.set(cacheKey, found.id);
    await mergeVersion(tx, batch, found.id, facets, version.at);
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
  const row = {
    versionId: id,
    artifactId: dataset.artifactId,
    datasetVersion: version.datasetVersion,
    writerRunId: version.writerRunId,
    eventTime: version.at,
    facets,
    facetsEventTime: version.at,
  };
  await tx.insert(openlineageVersions).values(row);
  batch.versionIds.set(cacheKey, id);
  batch.versionRows.set(id, { ...row, dirty: false });
  return id;
}

type VersionRow = typeof openlineageVersions.$inferSelect & { dirty: boolean };

/**
 * Merges facets into a version (in memory: written at the end of the batch); an earlier write time is
 * written at once, as readers of this batch look versions up by it.
 */
async function mergeVersion(tx: Db, batch: Batch, versionId: string, facets: Record<string, unknown>, at: Date) {
  let row = batch.versionRows.get(versionId);
  if (!row) {
    const [stored] = await tx
      .select()
      .from(openlineageVersions)
      .where(eq(openlineageVersions.versionId, versionId))
      .for("update");
    if (!stored) return;
    row = { ...stored, dirty: false };
    batch.versionRows.set(versionId, row);
  }
  if (Object.keys(facets).length > 0) {
    row.facets = mergeFacets(row.facets, row.facetsEventTime, facets, at);
    if (at > row.facetsEventTime) row.facetsEventTime = at;
    row.dirty = true;
  }
  if (at < row.eventTime) {
    row.eventTime = at;
    await tx.update(openlineageVersions).set({ eventTime: at }).where(eq(openlineageVersions.versionId, versionId));
  }
}

/**
 * The version a reader at `at` used: the one its `datasetVersion` names; else the one this run already reads
 * (a run reads a dataset once, however many events list it); else the newest written by another run as of
 * `at`; else the dataset as first seen.
 */
async function readVersion(
  tx: Db,
  ctx: WriteContext,
  batch: Batch,
  run: OpenLineageRunRow,
  dataset: DatasetArtifact,
  ref: DatasetRef,
  at: Date,
): Promise<string> {
  const facets = facetsOf(ref);
  const named = datasetVersionOf(ref);
  if (named) {
    const key = { key: `datasetVersion\n${named}`, datasetVersion: named, writerRunId: null, at };
    return ensureVersion(tx, ctx, batch, dataset, key, facets);
  }
  const readKey = `${run.runId}\n${dataset.artifactId}`;
  const readHere = batch.reads.get(readKey);
  const [read] = readHere
    ? [{ versionId: readHere }]
    : batch.madeRuns.has(run.runId)
      ? []
      : await tx
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
  const versionId = newest
    ? newest.versionId
    : await ensureVersion(
        tx,
        ctx,
        batch,
        dataset,
        { key: "observed", datasetVersion: null, writerRunId: null, at },
        facets,
      );
  if (newest) await mergeVersion(tx, batch, versionId, facets, at);
  batch.reads.set(readKey, versionId);
  return versionId;
}

async function recordDatasetInput(
  tx: Db,
  ctx: WriteContext,
  batch: Batch,
  run: OpenLineageRunRow,
  input: InputDataset,
  at: Date,
) {
  const versionId = await readVersion(tx, ctx, batch, run, datasetOf(batch, input), input, at);
  batch.inputs.set(`${run.runId}\n${versionId}`, {
    runId: run.runId,
    versionId,
    requestedRef: `dataset:${input.namespace}:${input.name}`,
  });
}

async function recordDatasetOutput(
  tx: Db,
  ctx: WriteContext,
  batch: Batch,
  run: OpenLineageRunRow,
  output: OutputDataset,
  at: Date,
) {
  const named = datasetVersionOf(output);
  const versionId = await ensureVersion(
    tx,
    ctx,
    batch,
    datasetOf(batch, output),
    named
      ? { key: `datasetVersion\n${named}`, datasetVersion: named, writerRunId: null, at }
      : { key: `run\n${run.openlineageRunId}`, datasetVersion: null, writerRunId: run.runId, at },
    facetsOf(output),
  );
  batch.outputs.set(`${run.runId}\n${versionId}`, { runId: run.runId, versionId });
}

/** A dataset event describes a dataset: its facets go to the version named, or the newest as of the event. */
async function ingestDatasetEvent(tx: Db, ctx: WriteContext, batch: Batch, event: DatasetEvent) {
  const at = eventTimeOf(event.eventTime);
  const dataset = datasetOf(batch, event.dataset);
  const facets = event.dataset.facets ?? {};
  const named = datasetVersionOf(event.dataset);
  if (named) {
    const key = { key: `datasetVersion\n${named}`, datasetVersion: named, writerRunId: null, at };
    await ensureVersion(tx, ctx, batch, dataset, key, facets);
    return;
  }
  const [newest] = await tx
    .select({ versionId: openlineageVersions.versionId })
    .from(openlineageVersions)
    .where(and(eq(openlineageVersions.artifactId, dataset.artifactId), lte(openlineageVersions.eventTime, at)))
    .orderBy(desc(openlineageVersions.eventTime), desc(openlineageVersions.versionId))
    .limit(1);
  if (newest) await mergeVersion(tx, batch, newest.versionId, facets, at);
  else
    await ensureVersion(
      tx,
      ctx,
      batch,
      dataset,
      { key: "observed", datasetVersion: null, writerRunId: null, at },
      facets,
    );
}
