import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/**
 * Orders what happens to a blob's file and its `blobs` row across transactions. The rule that keeps a committed
 * version's bytes safe through any race or crash:
 *
 * - `shared`: placing a file and recording its row, or relying on a row (a version about to be committed).
 *   The file is placed before the row is written, both under the lock, so a row always has its file.
 * - `exclusive`: removing. A row is deleted only when nothing references it; a file only when, under the
 *   lock and in a later statement (which sees every commit made before the lock was granted), it has no row.
 *   Deleting a row and its file takes two transactions: a crash between them leaves a file without a row,
 *   never a row without a file.
 *
 * Locks are transaction-scoped advisory locks on a few buckets of the sha256 space (so a manifest of 100,000
 * files takes at most `BUCKETS` locks), taken in bucket order in one statement: no deadlock between holders.
 */
const LOCK_SPACE = 727_002;
const BUCKETS = 64;

export type BlobLockMode = "shared" | "exclusive";

export async function lockBlobs(tx: Db, sha256s: Iterable<string>, mode: BlobLockMode): Promise<void> {
  const buckets = [...new Set([...sha256s].map((sha256) => Number.parseInt(sha256.slice(0, 4), 16) % BUCKETS))];
  if (buckets.length === 0) return;
  buckets.sort((a, b) => a - b);
  const lock = mode === "shared" ? sql`pg_advisory_xact_lock_shared` : sql`pg_advisory_xact_lock`;
  const rows = sql.join(
    buckets.map((bucket) => sql`(${bucket}::int)`),
    sql`, `,
  );
  await tx.execute(sql`select count(${lock}(${LOCK_SPACE}::int, bucket)) from (values ${rows}) as held(bucket)`);
}
