import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database, Db } from "../db/client";
import { blobs, blobUploads } from "../db/schema";
import type { BlobStore, StagedBlob } from "../store/blob-store";
import { lockBlobs } from "./blob-locks";

/**
 * Which blob files are kept: a file stays while its `blobs` row exists, and a row is written only in the
 * transaction that placed the file. What a refused or rolled-back request staged or placed is removed again.
 */

/**
 * Places staged blobs and records them, in the caller's transaction: the row, and `userId`'s proof of
 * possession (the server hashed the bytes that user sent).
 */
export async function recordUploads(tx: Db, store: BlobStore, staged: readonly StagedBlob[], userId: string) {
  if (staged.length === 0) return;
  const bySha = new Map(staged.map((blob) => [blob.sha256, blob]));
  await lockBlobs(tx, bySha.keys(), "shared");
  await store.place([...bySha.values()]);
  const rows = [...bySha.values()].map(({ sha256, size }) => ({ sha256, size }));
  await tx.insert(blobs).values(rows).onConflictDoNothing();
  await tx
    .insert(blobUploads)
    .values(rows.map(({ sha256 }) => ({ sha256, userId })))
    .onConflictDoUpdate({
      target: [blobUploads.sha256, blobUploads.userId],
      set: { uploadedAt: sql`excluded.${sql.identifier(blobUploads.uploadedAt.name)}` },
    });
}

/**
 * Runs `work`, the transaction that records `staged`. Whatever way it ends, no staged copy is left; when it
 * fails, the files it placed are removed unless a row (another request's) holds them.
 */
export async function keepingOnlyRecorded<T>(
  db: Database,
  store: BlobStore,
  staged: readonly StagedBlob[],
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await removeUnrecordedBlobs(
      db,
      store,
      staged.map((blob) => blob.sha256),
    ).catch((cleanup: unknown) => console.error("[pedigree] removing the files of a refused request failed:", cleanup));
    throw error;
  } finally {
    await Promise.all(staged.map((blob) => store.discard(blob)));
  }
}

/** Removes the files among `sha256s` that no `blobs` row holds; answers how many. */
export async function removeUnrecordedBlobs(db: Database, store: BlobStore, sha256s: readonly string[]) {
  let removed = 0;
  for (let start = 0; start < sha256s.length; start += 5000) {
    const chunk = [...new Set(sha256s.slice(start, start + 5000))];
    removed += await db.transaction(async (tx) => {
      await lockBlobs(tx, chunk, "exclusive");
      // A statement after the lock: it sees every row committed by the holders the lock waited for.
      const recorded = await tx.select({ sha256: blobs.sha256 }).from(blobs).where(inArray(blobs.sha256, chunk));
      const kept = new Set(recorded.map((row) => row.sha256));
      const unrecorded = chunk.filter((sha256) => !kept.has(sha256));
      for (const sha256 of unrecorded) await store.remove(sha256);
      return unrecorded.length;
    });
  }
  return removed;
}

/** The size of `sha256` when `userId` holds a standing proof of possession of it (an upload recorded earlier). */
export async function uploadedSize(db: Db, sha256: string, userId: string): Promise<number | null> {
  const [row] = await db
    .select({ size: blobs.size })
    .from(blobUploads)
    .innerJoin(blobs, eq(blobs.sha256, blobUploads.sha256))
    .where(and(eq(blobUploads.sha256, sha256), eq(blobUploads.userId, userId)));
  return row ? Number(row.size) : null;
}
