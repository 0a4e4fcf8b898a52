import type { CommitVersionBody, CreateVersionBody, CreateVersionResponse, VersionSummary } from "@pedigree/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import { randomId } from "../auth/keys";
import type { Db } from "../db/client";
import { artifacts, blobs, runOutputs, runs, versions } from "../db/schema";
import { conflict, notFound } from "../errors";
import { ensureProject } from "../projects";
import { assignAlias, lockArtifact } from "./aliases";
import { manifestDigest, manifestSize, storedBlobs } from "./digest";
import { type ArtifactRow, loadVersionSummaries, managedAliases, toVersionSummary, type VersionRow } from "./present";

export interface WriteContext {
  project: string;
  actor: string;
  now: () => Date;
  /** Set by the project gate when this write may create the project (see auth/access.ts). */
  claimsProject?: boolean;
  /** Set by the project gate when it saw the project: `ensureProject` has nothing to do. */
  projectExists?: boolean;
  /** An OpenLineage consumer is configured: run changes queue their events (openlineage/outbox.ts). */
  emitsOpenLineage?: boolean;
}

type CreateInput = Required<
  Pick<CreateVersionBody, "name" | "type" | "manifest" | "metadata" | "generated" | "aliases">
> &
  Pick<CreateVersionBody, "description" | "runId">;
type CommitInput = Required<Pick<CommitVersionBody, "aliases">> & Pick<CommitVersionBody, "runId">;

/**
 * First phase of logging a version: records the manifest and answers which blobs must be uploaded.
 * Content the artifact already has is the existing version; when nothing is missing, it commits at once.
 */
export async function createVersion(
  tx: Db,
  ctx: WriteContext,
  input: CreateInput,
  /** Blobs this transaction recorded itself (sent inline): known stored, not looked up again. */
  recordedBlobs: ReadonlySet<string> = new Set(),
): Promise<CreateVersionResponse> {
  await ensureProject(tx, ctx);
  // The upsert locks the artifact row as `lockArtifact` does, so what follows reads rows nobody else can change.
  const artifact = await upsertLockedArtifact(tx, ctx.project, input);
  const digest = manifestDigest(input.manifest);
  const [inserted] = await tx
    .insert(versions)
    .values({
      id: `av_${randomId(16)}`,
      project: ctx.project,
      artifactId: artifact.id,
      digest,
      manifest: input.manifest,
      metadata: input.metadata,
      description: input.description ?? null,
      size: manifestSize(input.manifest),
      fileCount: input.manifest.length,
      generated: input.generated,
      createdBy: ctx.actor,
    })
    .onConflictDoNothing({ target: [versions.artifactId, versions.digest] })
    .returning();
  const version = inserted ?? (await selectVersion(tx, artifact.id, digest));
  const unchecked = storedBlobs(input.manifest).filter((sha256) => !recordedBlobs.has(sha256));
  const missingBlobs = version.state === "committed" ? [] : await missingBlobsOf(tx, unchecked);
  if (missingBlobs.length > 0) {
    const [summary] = await loadVersionSummaries(tx, [version.id]);
    return { version: summary as VersionSummary, missingBlobs };
  }
  const committed = await commitLocked(
    tx,
    ctx,
    { artifact, version, blobsChecked: true, madeHere: inserted !== undefined },
    { runId: input.runId, aliases: input.aliases },
  );
  return { version: committed, missingBlobs: [] };
}

/**
 * Second phase: makes a pending version visible as the artifact's next `vN` (or, when it already is,
 * records one more producer), moves the aliases, and records the run's output edge. The artifact row lock
 * serialises concurrent commits, so numbering stays gapless and `latest` is always the newest.
 */
export async function commitVersion(
  tx: Db,
  ctx: WriteContext,
  versionId: string,
  input: CommitInput,
): Promise<VersionSummary> {
  const [found] = await tx
    .select({ artifactId: versions.artifactId })
    .from(versions)
    .where(and(eq(versions.id, versionId), eq(versions.project, ctx.project)));
  if (!found) throw notFound(`version '${versionId}' in project '${ctx.project}'`, "versionId");
  const artifact = await lockArtifact(tx, found.artifactId);
  // Read again under the lock: a concurrent commit of the same version may have numbered it meanwhile.
  const [version] = await tx.select().from(versions).where(eq(versions.id, versionId));
  if (!version) throw new Error("artifact or version vanished inside its transaction");
  return commitLocked(tx, ctx, { artifact, version, blobsChecked: false, madeHere: false }, input);
}

interface LockedVersion {
  /** Read while this transaction holds the artifact row lock. */
  artifact: ArtifactRow;
  version: VersionRow;
  /** Every blob of the manifest is known to be stored. */
  blobsChecked: boolean;
  /** Inserted by this transaction: no alias can point at it yet. */
  madeHere: boolean;
}

async function commitLocked(
  tx: Db,
  ctx: WriteContext,
  { artifact, version, blobsChecked, madeHere }: LockedVersion,
  input: CommitInput,
): Promise<VersionSummary> {
  const at = ctx.now();
  let committed = version;
  let counted = artifact;
  if (version.state === "pending") {
    const missing = blobsChecked ? [] : await missingBlobsOf(tx, storedBlobs(version.manifest));
    if (missing.length > 0) {
      throw conflict(`${missing.length} blob(s) are not uploaded yet: ${missing.slice(0, 5).join(", ")}`, "blobs");
    }
    // Both rows in one statement (one round trip); column names as in db/schema/artifacts.ts.
    await tx.execute(sql`
      with numbered as (
        update ${versions} set "state" = 'committed', "index" = ${artifact.versionCount},
          "committed_at" = ${at.toISOString()}::timestamptz
        where "id" = ${version.id}
      )
      update ${artifacts} set "version_count" = "version_count" + 1 where "id" = ${artifact.id}`);
    committed = { ...version, state: "committed", index: artifact.versionCount, committedAt: at };
    counted = { ...artifact, versionCount: artifact.versionCount + 1 };
  }
  if (input.runId) await recordOutput(tx, ctx.project, input.runId, version.id, at);
  const aliasNames = [...new Set(input.aliases)];
  for (const alias of aliasNames) {
    await assignAlias(tx, { artifactId: artifact.id, alias, versionId: version.id, actor: ctx.actor, at });
  }
  // A version made in this transaction holds only the aliases just assigned (and `latest`); with more than
  // one, their order is the database's collation, so they are read back.
  if (madeHere && aliasNames.length <= 1) {
    return toVersionSummary(committed, counted, [...managedAliases(committed, counted), ...aliasNames]);
  }
  const [summary] = await loadVersionSummaries(tx, [version.id]);
  return summary as VersionSummary;
}

/** Inserts the artifact or locks the one there (a no-op update takes the same lock as `lockArtifact`). */
async function upsertLockedArtifact(
  tx: Db,
  project: string,
  input: Pick<CreateInput, "name" | "type" | "description">,
): Promise<ArtifactRow> {
  const [artifact] = await tx
    .insert(artifacts)
    .values({ project, name: input.name, type: input.type, description: input.description ?? null })
    .onConflictDoUpdate({ target: [artifacts.project, artifacts.name], set: { type: sql`${artifacts.type}` } })
    .returning();
  if (!artifact) throw new Error("artifact upsert returned no row");
  if (artifact.type !== input.type) {
    throw conflict(`artifact '${input.name}' is of type '${artifact.type}', not '${input.type}'`, "type");
  }
  return artifact;
}

async function selectVersion(tx: Db, artifactId: number, digest: string): Promise<VersionRow> {
  const [version] = await tx
    .select()
    .from(versions)
    .where(and(eq(versions.artifactId, artifactId), eq(versions.digest, digest)));
  if (!version) throw new Error("version row vanished inside its transaction");
  return version;
}

/** Records the output edge; the run is checked by the same statement, and again only when nothing was inserted. */
async function recordOutput(tx: Db, project: string, runId: string, versionId: string, at: Date) {
  const inserted = await tx
    .insert(runOutputs)
    .select(
      tx
        .select({
          runId: runs.id,
          versionId: sql<string>`${versionId}::text`.as("version_id"),
          createdAt: sql<Date>`${at.toISOString()}::timestamptz`.as("created_at"),
        })
        .from(runs)
        .where(and(eq(runs.id, runId), eq(runs.project, project))),
    )
    .onConflictDoNothing()
    .returning({ runId: runOutputs.runId });
  if (inserted.length > 0) return;
  const [run] = await tx
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.id, runId), eq(runs.project, project)));
  if (!run) throw notFound(`run '${runId}' in project '${project}'`, "runId");
}

async function missingBlobsOf(db: Db, sha256s: string[]): Promise<string[]> {
  if (sha256s.length === 0) return [];
  const present = new Set<string>();
  for (let start = 0; start < sha256s.length; start += 5000) {
    const chunk = sha256s.slice(start, start + 5000);
    const rows = await db.select({ sha256: blobs.sha256 }).from(blobs).where(inArray(blobs.sha256, chunk));
    for (const row of rows) present.add(row.sha256);
  }
  return sha256s.filter((sha256) => !present.has(sha256));
}
