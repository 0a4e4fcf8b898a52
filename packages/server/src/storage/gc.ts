import type { GcResult } from "@pedigree/protocol";
import { expireVersions } from "../artifacts/retention";
import { appendAuditEvents } from "../audit/events";
import type { Database } from "../db/client";
import type { BlobStore } from "../store/blob-store";
import { sweepPendingVersions } from "./pending-sweep";

export interface GcOptions {
  now: Date;
  /** Blobs unreferenced (and upload proofs unused) for less than this survive. */
  graceMs: number;
  /** Pending versions younger than this may still be committed. */
  pendingTtlMs: number;
  dryRun: boolean;
  /** Who asked (audited); null for the server's own periodic run. */
  actor: { userId: string; userName: string } | null;
}

/**
 * Storage maintenance, in the order that frees most: expired versions become tombstones, then the pending
 * sweep removes abandoned pending versions, tombstones' references past the grace period and the blobs no
 * version references, then the temporary files of uploads that cannot finish. A dry run only counts (expiry
 * and dead uploads excepted: it reports 0 for them). Audited when it freed blobs.
 */
export async function collectGarbage(db: Database, store: BlobStore, options: GcOptions): Promise<GcResult> {
  const { now, dryRun } = options;
  const expired = dryRun ? 0 : (await expireVersions(db, now)).expired;
  const swept = await sweepPendingVersions(db, store, new Date(now.getTime() - options.pendingTtlMs), {
    blobsBefore: new Date(now.getTime() - options.graceMs),
    dryRun,
  });
  const tempFiles = dryRun ? 0 : await store.removeDeadUploads();
  const result: GcResult = {
    dryRun,
    blobs: swept.blobs,
    bytes: swept.bytes,
    pendingVersions: swept.versions,
    tempFiles,
    expiredVersions: expired,
  };
  if (!dryRun && swept.blobs > 0) {
    await db.transaction((tx) =>
      appendAuditEvents(tx, [
        {
          project: null,
          action: "blobs_collected",
          target: null,
          actorId: options.actor?.userId ?? null,
          actorName: options.actor?.userName ?? null,
          at: now,
          details: { blobs: swept.blobs, bytes: swept.bytes, pendingVersions: swept.versions },
        },
      ]),
    );
  }
  return result;
}
