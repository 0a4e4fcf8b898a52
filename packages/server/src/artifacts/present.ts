import type { VersionSummary } from "@pedigree/protocol";
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { aliases, artifacts, versions } from "../db/schema";

export type VersionRow = typeof versions.$inferSelect;
export type ArtifactRow = typeof artifacts.$inferSelect;

export const versionLabel = (index: number | null) => (index === null ? null : `v${index}`);

/** Aliases currently held by each version, with the managed `latest` first where it applies. */
export async function currentAliases(db: Db, rows: { version: VersionRow; artifact: ArtifactRow }[]) {
  const ids = rows.map((row) => row.version.id);
  const held = ids.length
    ? await db
        .select({ versionId: aliases.versionId, alias: aliases.alias })
        .from(aliases)
        .where(and(inArray(aliases.versionId, ids), isNull(aliases.removedAt)))
        .orderBy(aliases.alias)
    : [];
  const byVersion = new Map<string, string[]>();
  for (const row of rows) byVersion.set(row.version.id, managedAliases(row.version, row.artifact));
  for (const { versionId, alias } of held) byVersion.get(versionId)?.push(alias);
  return byVersion;
}

/** `latest` for the artifact's newest committed version that is not a tombstone: kept by the server. */
export function managedAliases(version: VersionRow, artifact: ArtifactRow): string[] {
  return version.state === "committed" && version.deletedAt === null && version.index === artifact.latestIndex
    ? ["latest"]
    : [];
}

/** `deleted: true` and who and when, on a tombstone only. */
export function tombstoneOf(row: { deletedAt: Date | null; deletedBy: string | null }): TombstoneSummary {
  if (row.deletedAt === null) return {};
  return {
    deleted: true,
    deletion: { reason: row.deletedBy ? "deleted" : "expired", by: row.deletedBy, at: row.deletedAt.toISOString() },
  };
}
type TombstoneSummary = Pick<VersionSummary, "deleted" | "deletion">;

export function toVersionSummary(version: VersionRow, artifact: ArtifactRow, heldAliases: string[]): VersionSummary {
  return {
    id: version.id,
    project: version.project,
    artifact: artifact.name,
    type: artifact.type,
    version: versionLabel(version.index),
    state: version.state,
    aliases: heldAliases,
    digest: version.digest,
    size: version.size,
    fileCount: version.fileCount,
    generated: version.generated,
    description: version.description,
    createdAt: version.createdAt.toISOString(),
    committedAt: version.committedAt?.toISOString() ?? null,
    ...(version.expiresAt && !version.deletedAt ? { expiresAt: version.expiresAt.toISOString() } : {}),
    ...tombstoneOf(version),
  };
}

/** Summaries of the given versions, in the order of `ids`, in two queries whatever their number. */
export async function loadVersionSummaries(db: Db, ids: string[]): Promise<VersionSummary[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ version: versions, artifact: artifacts })
    .from(versions)
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .where(inArray(versions.id, ids));
  const held = await currentAliases(db, rows);
  const byId = new Map(
    rows.map((row) => [row.version.id, toVersionSummary(row.version, row.artifact, held.get(row.version.id) ?? [])]),
  );
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** A version a ref resolved to, with its artifact. */
export interface ResolvedVersion {
  version: VersionRow;
  artifact: ArtifactRow;
}
