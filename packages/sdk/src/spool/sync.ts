import { HttpClient } from "../client";
import { resolveSettings } from "../settings";
import { isTransient, sendOp } from "./replay";
import { listSpooledRuns, RunSpool } from "./spool-log";

export interface SyncedRun {
  runId: string;
  project: string;
  baseUrl: string;
  /** Writes sent now (or, on a dry run, that would be sent). */
  sent: number;
  /** Writes still queued because the server could not be reached. */
  left: number;
  /** Writes the server refused for good, with its reasons (kept in the spool's rejected.jsonl). */
  rejected: string[];
}

/**
 * `pedigree sync`: sends, in order, every write that a crashed, killed or offline run left in the spool. Each
 * run's writes go to the server that run was logging to, with the key saved for it (or PEDIGREE_API_KEY).
 */
export async function syncSpool(
  options: { pedigreeDir?: string; dryRun?: boolean; apiKey?: string } = {},
): Promise<SyncedRun[]> {
  const pedigreeDir = resolveSettings({
    ...(options.pedigreeDir ? { pedigreeDir: options.pedigreeDir } : {}),
  }).pedigreeDir;
  const report: SyncedRun[] = [];
  for (const dir of await listSpooledRuns(pedigreeDir)) {
    const spool = await RunSpool.open(dir).catch(() => undefined);
    if (!spool) continue;
    const pending = await spool.unacked();
    const entry: SyncedRun = { ...spool.meta, sent: 0, left: pending.length, rejected: [] };
    report.push(entry);
    if (options.dryRun) {
      entry.sent = pending.length;
      continue;
    }
    const client = new HttpClient(
      resolveSettings({
        baseUrl: spool.meta.baseUrl,
        pedigreeDir,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      }),
    );
    for (const item of pending) {
      try {
        await sendOp(client, spool.meta, item.op);
      } catch (error) {
        if (isTransient(error as Error)) break;
        const reason = `${item.op.kind}: ${(error as Error).message}`;
        await spool.reject(item, reason);
        entry.rejected.push(reason);
      }
      await spool.ack(item.seq);
      entry.sent++;
      entry.left--;
    }
    entry.rejected.push(
      ...(await spool.rejected()).map((item) => item.reason).filter((reason) => !entry.rejected.includes(reason)),
    );
    await spool.removeIfDone();
  }
  return report;
}
