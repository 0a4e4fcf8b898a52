import type { DeleteVersionsResponse, RunSummary } from "@pedigree/protocol";
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { appendAuditEvents } from "../audit/events";
import { authorizeDeletion, registryRole } from "../auth/access";
import type { Actor } from "../auth/actor";
import type { Db } from "../db/client";
import { aliases, artifacts, collectionMemberships, collections, registries, runs, versions } from "../db/schema";
import { conflict, forbidden, notFound } from "../errors";
import { unlinkVersion } from "../registry/links";
import { toRunSummary } from "../runs/service";
import { lockArtifact } from "./aliases";

/**
 * Deleting makes tombstones: a deleted version keeps its row, its lineage edges and its number (the next
 * version is still `v{versionCount}`), loses its aliases and its files (garbage collection frees the blobs no
 * live version references), and answers 410 to downloads. Everything happens in the caller's transaction,
 * under the artifact row lock that commits and alias moves take, with its audit events.
 */
export interface DeleteContext {
  project: string;
  actor: Actor;
  now: () => Date;
}

export type DeleteTarget = { versionId: string } | { artifact: string };

export async function deleteVersions(
  tx: Db,
  ctx: DeleteContext,
  target: DeleteTarget,
  options: { unlink: boolean },
): Promise<DeleteVersionsResponse> {
  const artifact = await lockArtifact(tx, await artifactIdOf(tx, ctx.project, target));
  // Read under the lock: no commit, alias move or other deletion of this artifact runs meanwhile.
  const live = await tx
    .select({ id: versions.id, index: versions.index, createdBy: versions.createdBy })
    .from(versions)
    .where(
      and(
        eq(versions.artifactId, artifact.id),
        eq(versions.state, "committed"),
        isNull(versions.deletedAt),
        "versionId" in target ? eq(versions.id, target.versionId) : undefined,
      ),
    )
    .orderBy(asc(versions.index))
    // A link of one of them holds its row (registry/links.ts): waited for here, so the next statement sees it.
    .for("update");
  const empty = { deleted: [], unlinked: [], aliasesRemoved: [] };
  if (live.length === 0) return empty;
  const label = (index: number | null) => `version ${artifact.name}:v${index}`;
  await authorizeDeletion(
    tx,
    ctx.actor,
    ctx.project,
    live.map((row) => ({ createdBy: row.createdBy, label: label(row.index) })),
  );
  const ids = live.map((row) => row.id);
  const unlinked = await releaseMemberships(tx, ctx, ids, options.unlink, label);
  const at = ctx.now();
  const aliasesRemoved = await tombstoneVersions(tx, artifact.id, ids, { by: ctx.actor.userId, at });
  const byId = new Map(live.map((row) => [row.id, row]));
  await appendAuditEvents(
    tx,
    [
      ...("artifact" in target
        ? [{ project: ctx.project, action: "artifact_deleted" as const, target: artifact.name, details: {} }]
        : []),
      ...ids.map((id) => ({
        project: ctx.project,
        action: "version_deleted" as const,
        target: id,
        details: {
          artifact: artifact.name,
          version: `v${byId.get(id)?.index}`,
          aliases: aliasesRemoved.filter((held) => held.versionId === id).map((held) => held.alias),
          unlinked: unlinked.filter((link) => link.versionId === id).map(({ versionId: _, ...link }) => link),
        },
      })),
    ].map((event) => ({ ...event, actorId: ctx.actor.userId, actorName: ctx.actor.userName, at })),
  );
  return {
    deleted: ids,
    unlinked: unlinked.map(({ versionId: _, ...link }) => link),
    aliasesRemoved: aliasesRemoved.map((held) => held.alias),
  };
}

/**
 * Makes committed versions of one artifact tombstones (`by` null: they expired), removing their aliases and
 * moving `latest` to the newest live version. The caller holds the artifact row lock. Answers the aliases removed.
 */
export async function tombstoneVersions(
  tx: Db,
  artifactId: number,
  ids: readonly string[],
  deletion: { by: string | null; at: Date },
): Promise<{ versionId: string; alias: string }[]> {
  const removed = await tx
    .update(aliases)
    .set({ removedAt: deletion.at })
    .where(and(inArray(aliases.versionId, [...ids]), isNull(aliases.removedAt)))
    .returning({ versionId: aliases.versionId, alias: aliases.alias });
  await tx
    .update(versions)
    .set({ deletedAt: deletion.at, deletedBy: deletion.by })
    .where(and(inArray(versions.id, [...ids]), isNull(versions.deletedAt)));
  const newestLive = tx
    .select({ index: sql`max(${versions.index})` })
    .from(versions)
    .where(and(eq(versions.artifactId, artifactId), eq(versions.state, "committed"), isNull(versions.deletedAt)));
  await tx
    .update(artifacts)
    .set({ latestIndex: sql`(${newestLive})` })
    .where(eq(artifacts.id, artifactId));
  return removed.sort((a, b) => a.alias.localeCompare(b.alias));
}

/**
 * A version linked in a registry collection is refused (409 naming the collection), unless `unlink` is asked
 * and the actor administers each registry: then it is unlinked here, with the history events of an unlink.
 */
async function releaseMemberships(
  tx: Db,
  ctx: DeleteContext,
  ids: readonly string[],
  unlink: boolean,
  label: (index: number | null) => string,
) {
  const linked = await tx
    .select({
      registry: registries.name,
      collection: collections.name,
      index: collectionMemberships.index,
      versionId: collectionMemberships.versionId,
      versionIndex: versions.index,
    })
    .from(collectionMemberships)
    .innerJoin(collections, eq(collections.id, collectionMemberships.collectionId))
    .innerJoin(registries, eq(registries.id, collections.registryId))
    .innerJoin(versions, eq(versions.id, collectionMemberships.versionId))
    .where(and(inArray(collectionMemberships.versionId, [...ids]), isNull(collectionMemberships.unlinkedAt)))
    .orderBy(asc(registries.name), asc(collections.name), asc(collectionMemberships.index));
  const unlinked: { registry: string; collection: string; version: string; versionId: string }[] = [];
  for (const link of linked) {
    const found = await registryRole(tx, ctx.actor, link.registry);
    // A registry the actor cannot read is not named.
    const where = found ? `'${link.registry}/${link.collection}' (as v${link.index})` : "a registry collection";
    if (!unlink) {
      throw conflict(
        `${label(link.versionIndex)} is linked in ${where}: unlink it first, or delete with unlink=true as an admin of the registry`,
        "unlink",
      );
    }
    if (found?.role !== "admin") {
      throw forbidden(`unlinking from ${where} needs an admin of the registry`, "unlink");
    }
    await unlinkVersion(
      tx,
      { actor: ctx.actor, now: ctx.now, role: found.role },
      { registry: link.registry, collection: link.collection, version: `v${link.index}` },
    );
    unlinked.push({
      registry: link.registry,
      collection: link.collection,
      version: `v${link.index}`,
      versionId: link.versionId,
    });
  }
  return unlinked;
}

async function artifactIdOf(tx: Db, project: string, target: DeleteTarget): Promise<number> {
  if ("versionId" in target) {
    const [row] = await tx
      .select({ artifactId: versions.artifactId })
      .from(versions)
      .where(and(eq(versions.id, target.versionId), eq(versions.project, project), eq(versions.state, "committed")));
    if (!row) throw notFound(`version '${target.versionId}' in project '${project}'`, "versionId");
    return row.artifactId;
  }
  const [row] = await tx
    .select({ id: artifacts.id })
    .from(artifacts)
    .where(and(eq(artifacts.project, project), eq(artifacts.name, target.artifact)));
  if (!row) throw notFound(`artifact '${target.artifact}' in project '${project}'`, "name");
  return row.id;
}

/** Deletes a run: it stays in the lineage graph with its edges, marked deleted, and takes no new edges. */
export async function deleteRun(tx: Db, ctx: DeleteContext, runId: string): Promise<RunSummary> {
  const [run] = await tx
    .select()
    .from(runs)
    .where(and(eq(runs.id, runId), eq(runs.project, ctx.project)))
    .for("update");
  if (!run) throw notFound(`run '${runId}' in project '${ctx.project}'`, "runId");
  if (run.deletedAt) return toRunSummary(run);
  await authorizeDeletion(tx, ctx.actor, ctx.project, [{ createdBy: run.createdBy, label: `run '${run.name}'` }]);
  const at = ctx.now();
  const [deleted] = await tx
    .update(runs)
    .set({ deletedAt: at, deletedBy: ctx.actor.userId })
    .where(eq(runs.id, runId))
    .returning();
  await appendAuditEvents(tx, [
    {
      project: ctx.project,
      action: "run_deleted",
      target: runId,
      details: { name: run.name },
      actorId: ctx.actor.userId,
      actorName: ctx.actor.userName,
      at,
    },
  ]);
  return toRunSummary(deleted ?? run);
}
