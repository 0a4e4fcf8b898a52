import type {
  CreateRunBody,
  RunDetails,
  RunList,
  RunListQuery,
  RunState,
  RunSummary,
  UpdateRunBody,
  VersionContents,
} from "@pedigree/protocol";
import { and, asc, desc, eq, isNull, lt, notExists, notInArray, or, sql } from "drizzle-orm";
import type { z } from "zod";
import { getVersionContents } from "../artifacts/details";
import { loadVersionSummaries, tombstoneOf } from "../artifacts/present";
import { assertLive, resolveRef } from "../artifacts/refs";
import { randomId } from "../auth/keys";
import type { Db } from "../db/client";
import { openlineageRuns, projects, runInputs, runOutputs, runs } from "../db/schema";
import { ApiError, conflict, notFound } from "../errors";
import { runOpenLineageOf } from "../openlineage/details";
import { enqueueRunEvent } from "../openlineage/outbox";
import { ensureProject } from "../projects";
import { nameContains } from "../search/names";
import type { WriteContext } from "../write-context";
import { generateRunName } from "./names";

type RunRow = typeof runs.$inferSelect;
type CreateRunInput = Required<Pick<CreateRunBody, "jobType" | "config" | "tags">> & Pick<CreateRunBody, "id" | "name">;

/** Starts a run. A client-chosen id makes the call idempotent: the same id answers the run already made. */
export async function createRun(
  tx: Db,
  ctx: WriteContext,
  input: CreateRunInput,
  reservedOrdinal: number | null,
): Promise<RunSummary> {
  await ensureProject(tx, ctx);
  // With a reserved ordinal, a taken id is found by the insert below; without one, before the counter moves.
  if (input.id && reservedOrdinal === null) {
    const existing = await findRun(tx, input.id);
    if (existing) return sameProjectRun(existing, ctx.project);
  }
  const ordinal = reservedOrdinal ?? (await nextOrdinalInTransaction(tx, ctx.project));
  const at = ctx.now();
  const [created] = await tx
    .insert(runs)
    .values({
      id: input.id ?? randomId(8),
      project: ctx.project,
      name: input.name ?? generateRunName(ordinal),
      ordinal,
      jobType: input.jobType,
      config: input.config,
      tags: input.tags,
      createdBy: ctx.actor,
      startedAt: at,
      heartbeatAt: at,
    })
    .onConflictDoNothing({ target: runs.id })
    .returning();
  if (created) {
    if (ctx.emitsOpenLineage) await enqueueRunEvent(tx, created.id, "start", at);
    return toRunSummary(created);
  }
  // Another request created the same id between our look-up and insert.
  const raced = await findRun(tx, input.id ?? "");
  if (!raced) throw new Error("run insert conflicted but no run exists");
  return sameProjectRun(raced, ctx.project);
}

/** The first run of a new project: its row was made in this transaction, so no block could be reserved. */
async function nextOrdinalInTransaction(tx: Db, project: string): Promise<number> {
  const [counter] = await tx
    .update(projects)
    .set({ runCount: sql`${projects.runCount} + 1` })
    .where(eq(projects.name, project))
    .returning({ ordinal: projects.runCount });
  return counter?.ordinal ?? 1;
}

/**
 * One statement: the run is found, checked against the project and changed by the update itself.
 * `finished` and `failed` are the run's own last word: it may say them again, but not change them (409).
 * `crashed` is only the server's guess from a silent heartbeat: any PATCH from the run (a heartbeat included)
 * resumes it as `running`, unless the PATCH ends it.
 */
export async function updateRun(tx: Db, ctx: WriteContext, runId: string, input: UpdateRunBody): Promise<RunSummary> {
  const at = ctx.now();
  const ending = input.state !== undefined && input.state !== "running";
  // Without a state, a crashed run comes back to `running`; any other keeps its state.
  const resuming = sql`${runs.state} = 'crashed'`;
  const [updated] = await tx
    .update(runs)
    .set({
      state: input.state ?? sql`case when ${resuming} then 'running' else ${runs.state} end`,
      ...(ending ? { finishedAt: sql`coalesce(${runs.finishedAt}, ${at.toISOString()}::timestamptz)` } : {}),
      ...(input.state === undefined
        ? { finishedAt: sql`case when ${resuming} then null else ${runs.finishedAt} end` }
        : {}),
      ...(input.state === "running" ? { finishedAt: null } : {}),
      ...(input.tags ? { tags: input.tags } : {}),
      // `||` merges the top-level keys, as a spread of the stored summary with the new one would.
      ...(input.summary ? { summary: sql`${runs.summary} || ${JSON.stringify(input.summary)}::jsonb` } : {}),
      heartbeatAt: at,
    })
    .where(
      and(
        eq(runs.id, runId),
        eq(runs.project, ctx.project),
        input.state === undefined ? undefined : or(notInArray(runs.state, FINAL_STATES), eq(runs.state, input.state)),
      ),
    )
    .returning();
  if (updated) {
    if (ctx.emitsOpenLineage && ending) await enqueueRunEvent(tx, runId, updated.state, at);
    return toRunSummary(updated);
  }
  const run = await requireRun(tx, ctx.project, runId);
  throw conflict(`run '${runId}' is ${run.state}, which is final: it cannot become ${input.state}`, "runId");
}

/** States the run itself declared: nothing is added to such a run any more. */
const FINAL_STATES = ["finished", "failed", "aborted"] satisfies RunState[];

/**
 * Holds the run open for a new input or output edge until the transaction ends: one statement finds the
 * run, refuses it when it is finished or failed, and locks its row, so a concurrent finish lands either
 * before (this edge is refused) or after (this edge is in). An edge from a run the server marked `crashed`
 * proves it alive: the same statement resumes it as `running` (a spool replaying a silent run's writes).
 */
export async function lockRunForEdge(tx: Db, project: string, runId: string, at: Date): Promise<void> {
  const [open] = await tx
    .update(runs)
    .set({
      state: "running",
      finishedAt: null,
      heartbeatAt: sql`greatest(${runs.heartbeatAt}, ${at.toISOString()}::timestamptz)`,
    })
    .where(
      and(eq(runs.id, runId), eq(runs.project, project), notInArray(runs.state, FINAL_STATES), isNull(runs.deletedAt)),
    )
    .returning({ id: runs.id });
  if (open) return;
  const run = await requireRun(tx, project, runId);
  if (run.deletedAt) {
    throw new ApiError(
      "GONE",
      `run '${runId}' was deleted at ${run.deletedAt.toISOString()}: it takes no new edges`,
      "runId",
    );
  }
  const since = run.finishedAt ? ` since ${run.finishedAt.toISOString()}` : "";
  throw conflict(`run '${runId}' is ${run.state}${since}: it takes no new inputs or outputs`, "runId");
}

/** Records the input edge (keeping the ref the run asked for) and answers the version the ref resolved to. */
export async function recordInput(
  tx: Db,
  ctx: WriteContext,
  runId: string,
  input: { ref: string; type?: string | undefined; project?: string | undefined; usedAt?: string | undefined },
): Promise<VersionContents> {
  const at = useTime(input.usedAt, ctx.now());
  await lockRunForEdge(tx, ctx.project, runId, ctx.now());
  const resolved = await resolveRef(tx, input.project ?? ctx.project, input.ref, {
    reader: ctx.actor,
    ...(at.asOf ? { asOf: at.asOf } : {}),
    tombstones: "allow",
  });
  // A use queued before the version was deleted is still recorded: the lineage keeps what happened.
  const deletedAt = resolved.version.deletedAt;
  if (deletedAt && !(at.asOf && deletedAt > at.asOf)) assertLive(resolved);
  if (input.type && resolved.artifact.type !== input.type) {
    throw conflict(`'${input.ref}' is of type '${resolved.artifact.type}', not '${input.type}'`, "type");
  }
  await tx
    .insert(runInputs)
    .values({ runId, versionId: resolved.version.id, requestedRef: input.ref, createdAt: at.recordedAt })
    .onConflictDoNothing();
  return getVersionContents(tx, resolved);
}

/** Clocks differ by seconds: only a use older than a minute (a queued write) is resolved in the past. */
const LATE_USE_MS = 60_000;

function useTime(usedAt: string | undefined, now: Date): { asOf: Date | undefined; recordedAt: Date } {
  const claimed = usedAt ? new Date(usedAt) : undefined;
  if (!claimed || now.getTime() - claimed.getTime() <= LATE_USE_MS) return { asOf: undefined, recordedAt: now };
  return { asOf: claimed, recordedAt: claimed };
}

export async function getRunDetails(db: Db, project: string, runId: string): Promise<RunDetails> {
  const run = await requireRun(db, project, runId);
  const inputRows = await db
    .select({ versionId: runInputs.versionId, requestedRef: runInputs.requestedRef, usedAt: runInputs.createdAt })
    .from(runInputs)
    .where(eq(runInputs.runId, runId))
    .orderBy(asc(runInputs.createdAt));
  const outputRows = await db
    .select({ versionId: runOutputs.versionId })
    .from(runOutputs)
    .where(eq(runOutputs.runId, runId))
    .orderBy(asc(runOutputs.createdAt));
  const inputVersions = await loadVersionSummaries(
    db,
    inputRows.map((row) => row.versionId),
  );
  const outputs = await loadVersionSummaries(
    db,
    outputRows.map((row) => row.versionId),
  );
  return {
    ...toRunSummary(run),
    config: run.config,
    summary: run.summary,
    inputs: inputRows.flatMap((row, index) => {
      const version = inputVersions[index];
      return version ? [{ version, requestedRef: row.requestedRef, usedAt: row.usedAt.toISOString() }] : [];
    }),
    outputs,
    ...(await runOpenLineageOf(db, runId)),
  };
}

/**
 * Runs newest first, filtered by job type, state, tag and name (`q`, case-insensitive, anywhere in the name),
 * with the total over all pages; paged by cursor (the last ordinal) or by offset.
 */
export async function listRuns(db: Db, project: string, filters: z.output<typeof RunListQuery>): Promise<RunList> {
  const matching = and(
    eq(runs.project, project),
    filters.jobType ? eq(runs.jobType, filters.jobType) : undefined,
    filters.state ? eq(runs.state, filters.state) : undefined,
    filters.tag ? sql`${runs.tags} @> array[${filters.tag}]::text[]` : undefined,
    filters.q ? nameContains(runs.name, filters.q) : undefined,
  );
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(runs)
      .where(and(matching, filters.cursor ? lt(runs.ordinal, Number(filters.cursor)) : undefined))
      .orderBy(desc(runs.ordinal))
      .limit(filters.limit + 1)
      .offset(filters.cursor ? 0 : (filters.offset ?? 0)),
    db.select({ total: sql<number>`count(*)::int` }).from(runs).where(matching),
  ]);
  const page = rows.slice(0, filters.limit);
  const last = page[page.length - 1];
  return {
    runs: page.map(toRunSummary),
    nextCursor: rows.length > filters.limit && last ? String(last.ordinal) : null,
    total: Number(count?.total ?? 0),
  };
}

/** Marks runs whose heartbeat stopped (the process died without saying so) as `crashed`. */
export async function markSilentRunsCrashed(
  db: Db,
  silentSince: Date,
  options: { emitsOpenLineage?: boolean } = {},
): Promise<number> {
  const crashed = await db
    .update(runs)
    .set({ state: "crashed", finishedAt: sql`${runs.heartbeatAt}` })
    .where(
      and(
        eq(runs.state, "running"),
        lt(runs.heartbeatAt, silentSince),
        // An OpenLineage run has no heartbeat: its producer says when it ends.
        notExists(db.select({ one: sql`1` }).from(openlineageRuns).where(eq(openlineageRuns.runId, runs.id))),
      ),
    )
    .returning({ id: runs.id, finishedAt: runs.finishedAt });
  if (options.emitsOpenLineage) {
    for (const run of crashed) await enqueueRunEvent(db, run.id, "crashed", run.finishedAt ?? silentSince);
  }
  return crashed.length;
}

async function findRun(db: Db, runId: string): Promise<RunRow | undefined> {
  const [run] = await db.select().from(runs).where(eq(runs.id, runId));
  return run;
}

async function requireRun(db: Db, project: string, runId: string): Promise<RunRow> {
  const run = await findRun(db, runId);
  if (!run || run.project !== project) throw notFound(`run '${runId}' in project '${project}'`, "runId");
  return run;
}

/**
 * Run ids are global: they name lineage nodes and edges across projects. An id held by a run of another
 * project is refused with words that say nothing of that run (not "taken", no project), the same answer
 * whatever project holds it; reading that id in the caller's project answers 404 as for any unknown id.
 */
function sameProjectRun(run: RunRow, project: string): RunSummary {
  if (run.project !== project) {
    const message = `run id '${run.id}' cannot be used in project '${project}': start the run with another id, or with none and the server picks one`;
    throw conflict(message, "id");
  }
  return toRunSummary(run);
}

export function toRunSummary(run: RunRow): RunSummary {
  return {
    id: run.id,
    project: run.project,
    name: run.name,
    jobType: run.jobType,
    state: run.state,
    tags: run.tags,
    createdBy: run.createdBy,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    heartbeatAt: run.heartbeatAt.toISOString(),
    ...tombstoneOf(run),
  };
}
