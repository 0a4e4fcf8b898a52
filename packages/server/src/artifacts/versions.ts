import type { CommitVersionBody, CreateVersionBody, CreateVersionResponse, VersionSummary } from "@pedigree/protocol";
import { and, eq, isNull, sql } from "drizzle-orm";
import { randomId } from "../auth/keys";
import type { Db } from "../db/client";
import { artifacts, projects, runOutputs, versions } from "../db/schema";
import { conflict, notFound } from "../errors";
import { ensureProject } from "../projects";
import { lockRunForEdge } from "../runs/service";
import { lockBlobs } from "../storage/blob-locks";
import { recordUploads } from "../storage/stored-blobs";
import type { BlobStore, StagedBlob } from "../store/blob-store";
import type { WriteContext } from "../write-context";
import { assignAlias, lockArtifact } from "./aliases";
import { manifestDigest, manifestSize, storedBlobs } from "./digest";
import { assertDeclaredSizes, checkBlobPossession } from "./possession";

/** A column as the target of an update's SET, which PostgreSQL refuses qualified. */
const column = (target: { name: string }) => sql.identifier(target.name);

import { type ArtifactRow, loadVersionSummaries, managedAliases, toVersionSummary, type VersionRow } from "./present";

type CreateInput = Required<
  Pick<CreateVersionBody, "name" | "type" | "manifest" | "metadata" | "generated" | "aliases">
> &
  Pick<CreateVersionBody, "description" | "runId"> & { ttl?: number | undefined };
type CommitInput = Required<Pick<CommitVersionBody, "aliases">> & Pick<CommitVersionBody, "runId">;

/** Small files sent with the manifest, hashed and staged by the route; placed and recorded by the create. */
export interface InlineFiles {
  store: BlobStore;
  staged: readonly StagedBlob[];
}

/**
 * First phase of logging a version: records the manifest and answers which blobs must be uploaded.
 * Content the artifact already has is the existing version; when nothing is missing, it commits at once.
 */
export async function createVersion(
  tx: Db,
  ctx: WriteContext,
  input: CreateInput,
  inline?: InlineFiles,
): Promise<CreateVersionResponse> {
  await ensureProject(tx, ctx);
  // Refused before any upload is asked for; run before artifact, the lock order of every edge.
  if (input.runId) await lockRunForEdge(tx, ctx.project, input.runId, ctx.now());
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
      // Without a ttl of its own, the project's default (null: kept for good).
      expiresAt: sql`${ctx.now().toISOString()}::timestamptz + make_interval(secs => coalesce(${input.ttl ?? null}::bigint,
        (select ${projects.defaultTtlSeconds} from ${projects} where ${projects.name} = ${ctx.project})))`,
    })
    .onConflictDoNothing({ target: [versions.artifactId, versions.digest], where: sql`${versions.deletedAt} is null` })
    .returning();
  const version = inserted ?? (await selectVersion(tx, artifact.id, digest));
  if (version.state === "pending") {
    const stored = storedBlobs(input.manifest);
    await lockBlobs(tx, stored, "shared");
    if (inline) await recordUploads(tx, inline.store, inline.staged, ctx.actor);
    // Files all sent inline were just hashed and measured: nothing is left to check.
    const sent = new Set(inline?.staged.map((blob) => blob.sha256));
    if (!stored.every((sha256) => sent.has(sha256))) {
      const { missing, wrongSize } = await checkBlobPossession(tx, writerOf(ctx), version.id);
      assertDeclaredSizes(input.manifest, wrongSize);
      if (missing.length > 0) {
        const [summary] = await loadVersionSummaries(tx, [version.id]);
        return { version: summary as VersionSummary, missingBlobs: missing };
      }
    }
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
  if (input.runId) await lockRunForEdge(tx, ctx.project, input.runId, ctx.now());
  const artifact = await lockArtifact(tx, found.artifactId);
  // Read again under the lock: a concurrent commit of the same version may have numbered it meanwhile.
  const [version] = await tx.select().from(versions).where(eq(versions.id, versionId));
  // Gone only when the pending sweep removed it meanwhile: as if it had never been made.
  if (!version) throw notFound(`version '${versionId}' in project '${ctx.project}'`, "versionId");
  return commitLocked(tx, ctx, { artifact, version, blobsChecked: false, madeHere: false }, input);
}

interface LockedVersion {
  /** Read while this transaction holds the artifact row lock. */
  artifact: ArtifactRow;
  version: VersionRow;
  /** This writer was found to hold every blob of the manifest, under the shared blob locks. */
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
    if (!blobsChecked) {
      await lockBlobs(tx, storedBlobs(version.manifest), "shared");
      const { missing, wrongSize } = await checkBlobPossession(tx, writerOf(ctx), version.id);
      assertDeclaredSizes(version.manifest, wrongSize);
      if (missing.length > 0) {
        throw conflict(`${missing.length} blob(s) are not uploaded yet: ${missing.slice(0, 5).join(", ")}`, "blobs");
      }
    }
    // Both rows in one statement (one round trip); column names as in db/schema/artifacts.ts.
    await tx.execute(sql`
      with numbered as (
        update ${versions} set ${column(versions.state)} = 'committed', ${column(versions.index)} = ${artifact.versionCount},
          ${column(versions.committedAt)} = ${at.toISOString()}::timestamptz
        where ${versions.id} = ${version.id}
      )
      update ${artifacts} set ${column(artifacts.versionCount)} = ${artifacts.versionCount} + 1,
        ${column(artifacts.latestIndex)} = ${artifacts.versionCount}
      where ${artifacts.id} = ${artifact.id}`);
    committed = { ...version, state: "committed", index: artifact.versionCount, committedAt: at };
    counted = { ...artifact, versionCount: artifact.versionCount + 1, latestIndex: artifact.versionCount };
  }
  // The caller holds the run open (`lockRunForEdge`).
  if (input.runId) {
    await tx
      .insert(runOutputs)
      .values({ runId: input.runId, versionId: version.id, createdAt: at })
      .onConflictDoNothing();
  }
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
    .where(and(eq(versions.artifactId, artifactId), eq(versions.digest, digest), isNull(versions.deletedAt)));
  if (!version) throw new Error("version row vanished inside its transaction");
  return version;
}

const writerOf = (ctx: WriteContext) => ({ userId: ctx.actor, isAdmin: ctx.actorIsAdmin ?? false });
