import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { artifacts, versionFiles, versions } from "../db/schema";
import { badRequest, notFound } from "../errors";
import { assertLive } from "./refs";

export interface StoredFile {
  sha256: string;
  size: number;
}

/**
 * The stored file at `path` of a committed version of `project`, found through `version_files` (one index
 * probe): downloading every file of a version costs one look-up each, whatever the size of its manifest.
 */
export async function findVersionFile(db: Db, project: string, versionId: string, path: string): Promise<StoredFile> {
  const [row] = await db
    .select({
      // Not the whole row: the manifest is what this look-up avoids reading.
      version: { id: versions.id, index: versions.index, deletedAt: versions.deletedAt, deletedBy: versions.deletedBy },
      artifact: { name: artifacts.name },
      sha256: versionFiles.sha256,
      size: versionFiles.size,
    })
    .from(versions)
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .leftJoin(versionFiles, and(eq(versionFiles.versionId, versions.id), eq(versionFiles.path, path)))
    .where(and(eq(versions.id, versionId), eq(versions.project, project), eq(versions.state, "committed")));
  if (!row) throw notFound(`version '${versionId}' in project '${project}'`, "versionId");
  assertLive(row, "versionId");
  if (row.sha256 !== null && row.size !== null) return { sha256: row.sha256, size: row.size };
  // Only a miss reads the manifest, for the message: a reference to outside storage, or no such file.
  const [reference] = await db
    .select({ uri: sql<string>`entry->>'uri'` })
    .from(sql`${versions}, jsonb_array_elements(${versions.manifest}) as entry`)
    .where(and(eq(versions.id, versionId), sql`entry->>'path' = ${path}`));
  if (reference)
    throw badRequest("path", `'${path}' is a reference to ${reference.uri}; its bytes are not stored here`);
  throw notFound(`file '${path}' in version ${row.artifact.name}:v${row.version.index}`, "path");
}
