import type { CommitVersionBody, CreateVersionBody, CreateVersionResponse, VersionSummary } from "@pedigree/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import { randomId } from "../auth/keys";
import type { Db } from "../db/client";
import { artifacts, blobs, runOutputs, runs, versions } from "../db/schema";
import { conflict, notFound } from "../errors";
import { ensureProject } from "../projects";
import { assignAlias, lockArtifact } from "./aliases";
import { manifestDigest, manifestSize, storedBlobs } from "./digest";
import { loadVersionSummaries } from "./present";

export interface WriteContext {
  project: string;
  actor: string;
  now: () => Date;
  /** Set by the project gate when this write may create the project (see auth/access.ts). */
  claimsProject?: boolean;
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
export async function createVersion(tx: Db, ctx: WriteContext, input: CreateInput): Promise<CreateVersionResponse> {
  await ensureProject(tx, ctx);
  const artifact = await upsertArtifact(tx, ctx.project, input);
  const digest = manifestDigest(input.manifest);
  await tx
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
    .onConflictDoNothing({ target: [versions.artifactId, versions.digest] });
  const [version] = await tx
    .select({ id: versions.id, state: versions.state })
    .from(versions)
    .where(and(eq(versions.artifactId, artifact.id), eq(versions.digest, digest)));
  if (!version) throw new Error("version row vanished inside its transaction");
  const missingBlobs = version.state === "committed" ? [] : await missingBlobsOf(tx, storedBlobs(input.manifest));
  if (missingBlobs.length > 0) {
    const [summary] = await loadVersionSummaries(tx, [version.id]);
    return { version: summary as VersionSummary, missingBlobs };
  }
  const committed = await commitVersion(tx, ctx, version.id, { runId: input.runId, aliases: input.aliases });
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
  const [version] = await tx.select().from(versions).where(eq(versions.id, versionId));
  if (!version) throw new Error("artifact or version vanished inside its transaction");
  const at = ctx.now();

  if (version.state === "pending") {
    const missing = await missingBlobsOf(tx, storedBlobs(version.manifest));
    if (missing.length > 0) {
      throw conflict(`${missing.length} blob(s) are not uploaded yet: ${missing.slice(0, 5).join(", ")}`, "blobs");
    }
    await tx
      .update(versions)
      .set({ state: "committed", index: artifact.versionCount, committedAt: at })
      .where(eq(versions.id, versionId));
    await tx
      .update(artifacts)
      .set({ versionCount: sql`${artifacts.versionCount} + 1` })
      .where(eq(artifacts.id, artifact.id));
  }
  if (input.runId) await recordOutput(tx, ctx.project, input.runId, versionId, at);
  for (const alias of new Set(input.aliases)) {
    await assignAlias(tx, { artifactId: artifact.id, alias, versionId, actor: ctx.actor, at });
  }
  const [summary] = await loadVersionSummaries(tx, [versionId]);
  return summary as VersionSummary;
}

async function upsertArtifact(tx: Db, project: string, input: Pick<CreateInput, "name" | "type" | "description">) {
  await tx
    .insert(artifacts)
    .values({ project, name: input.name, type: input.type, description: input.description ?? null })
    .onConflictDoNothing({ target: [artifacts.project, artifacts.name] });
  const [artifact] = await tx
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.project, project), eq(artifacts.name, input.name)));
  if (!artifact) throw new Error("artifact row vanished inside its transaction");
  if (artifact.type !== input.type) {
    throw conflict(`artifact '${input.name}' is of type '${artifact.type}', not '${input.type}'`, "type");
  }
  return artifact;
}

async function recordOutput(tx: Db, project: string, runId: string, versionId: string, at: Date) {
  const [run] = await tx
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.id, runId), eq(runs.project, project)));
  if (!run) throw notFound(`run '${runId}' in project '${project}'`, "runId");
  await tx.insert(runOutputs).values({ runId, versionId, createdAt: at }).onConflictDoNothing();
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
