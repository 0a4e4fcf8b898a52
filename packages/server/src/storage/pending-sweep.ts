import { and, count, eq, gte, inArray, isNotNull, lt, notExists, sql, sum } from "drizzle-orm";
import type { Database, Db } from "../db/client";
import { artifacts, blobs, blobUploads, versionFiles, versions } from "../db/schema";
import type { BlobStore } from "../store/blob-store";
import { lockBlobs } from "./blob-locks";
import { removeUnrecordedBlobs } from "./stored-blobs";

/** What one sweep removed (or, dry, would remove): pending versions, and blobs nothing referenced any more. */
export interface SweepResult {
  versions: number;
  blobs: number;
  bytes: number;
}

export interface SweepOptions {
  /** Blobs, upload proofs and tombstones' references older than this go too; `before` when not given. */
  blobsBefore?: Date;
  /** Count what would go, change nothing. */
  dryRun?: boolean;
}

const BATCH = 1000;

/**
 * Cleans up what logging and deleting left: pending versions nobody committed before `before` and upload
 * proofs as old, the references of versions deleted (tombstones) before `blobsBefore`, and the blobs no version
 * references any more (rows first, then their files, each under the blob locks). Live versions, pending versions younger
 * than `before`, and what they reference are never touched. Works in batches of short transactions, so it can
 * run beside live traffic; the server runs it periodically, `pedigree gc` on demand. Blob files without a row
 * (left by a crash between placing a file and committing its row) are not looked for here: that needs a walk
 * of the store.
 */
export async function sweepPendingVersions(
  db: Database,
  store: BlobStore,
  before: Date,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const blobsBefore = options.blobsBefore ?? before;
  if (options.dryRun) return countSweep(db, before, blobsBefore);
  const result: SweepResult = { versions: 0, blobs: 0, bytes: 0 };
  for (let swept = BATCH; swept === BATCH; ) {
    swept = await db.transaction(async (tx) => {
      // The artifact lock orders this with a commit of the same version: whichever comes second sees the first.
      const stale = await tx
        .select({ id: versions.id })
        .from(versions)
        .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
        .where(and(eq(versions.state, "pending"), lt(versions.createdAt, before)))
        .orderBy(artifacts.id)
        .limit(BATCH)
        .for("update", { of: artifacts });
      if (stale.length === 0) return 0;
      const ids = stale.map((row) => row.id);
      const deleted = await tx
        .delete(versions)
        .where(and(inArray(versions.id, ids), eq(versions.state, "pending")))
        .returning({ id: versions.id });
      result.versions += deleted.length;
      return stale.length;
    });
  }
  // A tombstone keeps its blobs through the grace period; after it, its references go (it has no files).
  await db.transaction((tx) =>
    tx.delete(versionFiles).where(inArray(versionFiles.versionId, expiredTombstones(tx, blobsBefore))),
  );
  // A proof serves commits of pending versions, so it lasts as long as they do.
  await db.transaction((tx) => tx.delete(blobUploads).where(lt(blobUploads.uploadedAt, before)));
  for (let found = BATCH; found === BATCH; ) {
    const candidates = await db.read((reader) =>
      reader.select({ sha256: blobs.sha256 }).from(blobs).where(unusedBlob(reader, blobsBefore)).limit(BATCH),
    );
    found = candidates.length;
    if (found === 0) break;
    const deleted = await db.transaction(async (tx) => {
      const sha256s = candidates.map((row) => row.sha256);
      await lockBlobs(tx, sha256s, "exclusive");
      // Asked again under the lock: a version may have taken the blob since.
      return tx
        .delete(blobs)
        .where(and(inArray(blobs.sha256, sha256s), unusedBlob(tx, blobsBefore)))
        .returning({ sha256: blobs.sha256, size: blobs.size });
    });
    // A later transaction: the files go only once no row can name them (see blob-locks.ts).
    await removeUnrecordedBlobs(
      db,
      store,
      deleted.map((row) => row.sha256),
    );
    result.blobs += deleted.length;
    result.bytes += deleted.reduce((total, row) => total + row.size, 0);
  }
  return result;
}

/** What a sweep would remove now, read in one snapshot; the blobs only swept pending versions hold are not counted. */
async function countSweep(db: Database, before: Date, blobsBefore: Date): Promise<SweepResult> {
  return db.read(async (reader) => {
    const [pending] = await reader
      .select({ count: count() })
      .from(versions)
      .where(and(eq(versions.state, "pending"), lt(versions.createdAt, before)));
    const [unused] = await reader
      .select({ count: count(), bytes: sum(blobs.size).mapWith(Number) })
      .from(blobs)
      .where(
        and(
          lt(blobs.createdAt, blobsBefore),
          notExists(
            reader
              .select({ one: sql`1` })
              .from(versionFiles)
              .where(
                and(
                  eq(versionFiles.sha256, blobs.sha256),
                  notExists(
                    reader
                      .select({ one: sql`1` })
                      .from(versions)
                      .where(and(eq(versions.id, versionFiles.versionId), lt(versions.deletedAt, blobsBefore))),
                  ),
                ),
              ),
          ),
          notExists(
            reader
              .select({ one: sql`1` })
              .from(blobUploads)
              .where(and(eq(blobUploads.sha256, blobs.sha256), gte(blobUploads.uploadedAt, blobsBefore))),
          ),
        ),
      );
    return { versions: pending?.count ?? 0, blobs: unused?.count ?? 0, bytes: unused?.bytes ?? 0 };
  });
}

/** Ids of versions that became tombstones before `before`. */
function expiredTombstones(db: Db, before: Date) {
  return db
    .select({ id: versions.id })
    .from(versions)
    .where(and(isNotNull(versions.deletedAt), lt(versions.deletedAt, before)));
}

/**
 * A blob recorded before `before` that no version references (a pending one included) and nobody uploaded
 * since `before`. Its older upload proofs go with it: a version logged later asks for the bytes again.
 */
function unusedBlob(db: Db, before: Date) {
  const one = sql`1`;
  return and(
    lt(blobs.createdAt, before),
    notExists(db.select({ one }).from(versionFiles).where(eq(versionFiles.sha256, blobs.sha256))),
    notExists(
      db
        .select({ one })
        .from(blobUploads)
        .where(and(eq(blobUploads.sha256, blobs.sha256), gte(blobUploads.uploadedAt, before))),
    ),
  );
}
