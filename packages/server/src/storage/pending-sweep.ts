import { and, eq, inArray, lt, notExists, sql } from "drizzle-orm";
import type { Database, Db } from "../db/client";
import { artifacts, blobs, blobUploads, versionFiles, versions } from "../db/schema";
import type { BlobStore } from "../store/blob-store";
import { lockBlobs } from "./blob-locks";
import { removeUnrecordedBlobs } from "./stored-blobs";

/** What one sweep removed: pending versions, and blobs (rows and files) nothing referenced any more. */
export interface SweepResult {
  versions: number;
  blobs: number;
}

const BATCH = 1000;

/**
 * Cleans up what logging left unfinished before `before`: pending versions nobody committed, upload proofs,
 * and the blobs no version references any more (rows first, then their files, each under the blob locks).
 * Committed versions and what they reference are never touched. Works in batches of short transactions, so
 * it can run beside live traffic; the server runs it periodically. Blob files without a row (left by a crash
 * between placing a file and committing its row) are not looked for here: that needs a walk of the store.
 */
export async function sweepPendingVersions(db: Database, store: BlobStore, before: Date): Promise<SweepResult> {
  const result: SweepResult = { versions: 0, blobs: 0 };
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
  await db.transaction((tx) => tx.delete(blobUploads).where(lt(blobUploads.uploadedAt, before)));
  for (let found = BATCH; found === BATCH; ) {
    const candidates = await db.read((reader) =>
      reader.select({ sha256: blobs.sha256 }).from(blobs).where(unusedBlob(reader, before)).limit(BATCH),
    );
    found = candidates.length;
    if (found === 0) break;
    const deleted = await db.transaction(async (tx) => {
      const sha256s = candidates.map((row) => row.sha256);
      await lockBlobs(tx, sha256s, "exclusive");
      // Asked again under the lock: a version may have taken the blob since.
      return tx
        .delete(blobs)
        .where(and(inArray(blobs.sha256, sha256s), unusedBlob(tx, before)))
        .returning({ sha256: blobs.sha256 });
    });
    // A later transaction: the files go only once no row can name them (see blob-locks.ts).
    await removeUnrecordedBlobs(
      db,
      store,
      deleted.map((row) => row.sha256),
    );
    result.blobs += deleted.length;
  }
  return result;
}

/** A blob recorded before `before` that no version references and nobody has a standing upload proof of. */
function unusedBlob(db: Db, before: Date) {
  const one = sql`1`;
  return and(
    lt(blobs.createdAt, before),
    notExists(db.select({ one }).from(versionFiles).where(eq(versionFiles.sha256, blobs.sha256))),
    notExists(db.select({ one }).from(blobUploads).where(eq(blobUploads.sha256, blobs.sha256))),
  );
}
