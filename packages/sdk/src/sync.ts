import type { SyncedRun, syncSpool as syncSpoolNow } from "./spool/sync";

export type { SyncedRun };

/**
 * `pedigree sync`: sends, in order, every write that a crashed, killed or offline run left in the spool (see
 * spool/sync.ts). The spool's code loads on the first call, not when the SDK is imported.
 */
export async function syncSpool(...args: Parameters<typeof syncSpoolNow>): Promise<SyncedRun[]> {
  return (await import("./spool/sync")).syncSpool(...args);
}
