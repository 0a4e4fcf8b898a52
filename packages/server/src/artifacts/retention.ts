import type { ProjectSettings, VersionSummary } from "@pedigree/protocol";
import { and, asc, eq, exists, inArray, isNull, lte, not, sql } from "drizzle-orm";
import { appendAuditEvents } from "../audit/events";
import { authorizeDeletion, authorizeProject } from "../auth/access";
import { type Database, type Db, selectRows } from "../db/client";
import { artifacts, collectionMemberships, projects, versions } from "../db/schema";
import { notFound } from "../errors";
import { lockArtifact } from "./aliases";
import type { DeleteContext } from "./deletion";
import { tombstoneVersions } from "./deletion";
import { loadVersionSummaries } from "./present";
import { assertLive } from "./refs";

/**
 * Retention: a version with `expiresAt` becomes a tombstone once that time has passed, unless it is linked
 * in a registry collection (linked versions never expire). `expiresAt` is the time of logging plus the ttl
 * given with the version, or the project's default ttl then.
 */

/** Sets (or, with null, clears) the ttl of a version, counted from when it was logged. Same rule as deleting. */
export async function updateVersionTtl(
  tx: Db,
  ctx: DeleteContext,
  versionId: string,
  ttlSeconds: number | null,
): Promise<VersionSummary> {
  const [row] = await tx
    .select({ version: versions, artifact: artifacts })
    .from(versions)
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .where(and(eq(versions.id, versionId), eq(versions.project, ctx.project), eq(versions.state, "committed")))
    .for("update", { of: versions });
  if (!row) throw notFound(`version '${versionId}' in project '${ctx.project}'`, "versionId");
  assertLive(row, "versionId");
  await authorizeDeletion(tx, ctx.actor, ctx.project, [
    { createdBy: row.version.createdBy, label: `version ${row.artifact.name}:v${row.version.index}` },
  ]);
  await tx
    .update(versions)
    .set({
      expiresAt: ttlSeconds === null ? null : sql`${versions.createdAt} + make_interval(secs => ${ttlSeconds}::bigint)`,
    })
    .where(eq(versions.id, versionId));
  const [summary] = await loadVersionSummaries(tx, [versionId]);
  return summary as VersionSummary;
}

export async function getProjectSettings(db: Db, project: string): Promise<ProjectSettings> {
  const [row] = await db
    .select({ defaultTtlSeconds: projects.defaultTtlSeconds })
    .from(projects)
    .where(eq(projects.name, project));
  if (!row) throw notFound(`project '${project}'`, "project");
  return { project, defaultTtlSeconds: row.defaultTtlSeconds };
}

/** The project's default ttl, for versions logged from now on; project admins only. */
export async function updateProjectSettings(
  tx: Db,
  ctx: DeleteContext,
  defaultTtlSeconds: number | null,
): Promise<ProjectSettings> {
  await authorizeProject(tx, ctx.actor, ctx.project, "manage");
  const [row] = await tx
    .update(projects)
    .set({ defaultTtlSeconds })
    .where(eq(projects.name, ctx.project))
    .returning({ defaultTtlSeconds: projects.defaultTtlSeconds });
  if (!row) throw notFound(`project '${ctx.project}'`, "project");
  return { project: ctx.project, defaultTtlSeconds: row.defaultTtlSeconds };
}

/** Key of the advisory lock only one expiry sweep holds at a time, across every server on the database. */
const RETENTION_LOCK = 727_003;
const BATCH = 1000;

export interface ExpiryResult {
  /** Another server's sweep held the lock: this one did nothing. */
  skipped: boolean;
  expired: number;
}

/**
 * Makes tombstones of versions whose `expiresAt` is at or before `now`, at most `limit` per call, in one
 * transaction that holds the retention lock (a second sweeper answers `skipped`). Each is audited as
 * `version_expired`.
 */
export async function expireVersions(db: Database, now: Date, limit = 10 * BATCH): Promise<ExpiryResult> {
  return db.transaction(async (tx) => {
    const [lock] = await selectRows<{ locked: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK}::int, 0) as locked`,
    );
    if (!lock?.locked) return { skipped: true, expired: 0 };
    const linked = (tx: Db) =>
      exists(
        tx
          .select({ one: sql`1` })
          .from(collectionMemberships)
          .where(and(eq(collectionMemberships.versionId, versions.id), isNull(collectionMemberships.unlinkedAt))),
      );
    const due = (tx: Db) =>
      and(eq(versions.state, "committed"), isNull(versions.deletedAt), lte(versions.expiresAt, now), not(linked(tx)));
    const candidates = await tx
      .select({ id: versions.id, artifactId: versions.artifactId })
      .from(versions)
      .where(due(tx))
      .orderBy(asc(versions.artifactId))
      .limit(limit);
    let expired = 0;
    const byArtifact = new Map<number, typeof candidates>();
    for (const row of candidates) byArtifact.set(row.artifactId, [...(byArtifact.get(row.artifactId) ?? []), row]);
    for (const [artifactId, rows] of byArtifact) {
      const artifact = await lockArtifact(tx, artifactId);
      const ids = rows.map((row) => row.id);
      // Locked first (a link holds the row it links), then asked again in a later statement that sees that link.
      await tx.select({ id: versions.id }).from(versions).where(inArray(versions.id, ids)).for("update");
      const still = await tx
        .select({ id: versions.id, index: versions.index, expiresAt: versions.expiresAt })
        .from(versions)
        .where(and(inArray(versions.id, ids), due(tx)));
      if (still.length === 0) continue;
      const aliasesRemoved = await tombstoneVersions(
        tx,
        artifactId,
        still.map((row) => row.id),
        { by: null, at: now },
      );
      await appendAuditEvents(
        tx,
        still.map((row) => ({
          project: artifact.project,
          action: "version_expired" as const,
          target: row.id,
          actorId: null,
          actorName: null,
          at: now,
          details: {
            artifact: artifact.name,
            version: `v${row.index}`,
            expiresAt: row.expiresAt?.toISOString() ?? null,
            aliases: aliasesRemoved.filter((held) => held.versionId === row.id).map((held) => held.alias),
          },
        })),
      );
      expired += still.length;
    }
    return { skipped: false, expired };
  });
}
