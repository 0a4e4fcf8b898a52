import { HttpClient } from "../client";
import { resolveSettings } from "../settings";
import { blockerOf, failureKind, parkedAnswer, sendOp } from "./replay";
import { SpoolLocked } from "./spool-lock";
import { listSpooledRuns, type RejectedEntry, RunSpool, type SpoolEntry } from "./spool-log";

export interface SyncedRun {
  runId: string;
  project: string;
  baseUrl: string;
  /** Writes sent now (or, on a dry run, that would be sent). */
  sent: number;
  /** Writes still queued because the server could not be reached (or refused the key). */
  left: number;
  /** Writes parked in the spool's rejected.jsonl, with the server's answers: refused, or failing with 5xx. */
  rejected: string[];
  /** Why the run was not sent now: its spool is in use by a live process, or the server refused the key. */
  skipped?: string;
}

/**
 * `pedigree sync`: sends, in order, every write that a crashed, killed or offline run left in the spool. Each
 * run's writes go to the server that run was logging to, with the key saved for it (or PEDIGREE_API_KEY).
 * A spool locked by a live process (a run still going, another sync) is skipped and reported. With
 * `retryRejected`, the parked writes of rejected.jsonl are sent again first (they are older than the queued ones).
 */
export async function syncSpool(
  options: { pedigreeDir?: string; dryRun?: boolean; apiKey?: string; retryRejected?: boolean } = {},
): Promise<SyncedRun[]> {
  const pedigreeDir = resolveSettings({
    ...(options.pedigreeDir ? { pedigreeDir: options.pedigreeDir } : {}),
  }).pedigreeDir;
  const report: SyncedRun[] = [];
  for (const dir of await listSpooledRuns(pedigreeDir)) {
    let spool: RunSpool;
    try {
      spool = await RunSpool.open(dir);
    } catch (error) {
      if (error instanceof SpoolLocked) {
        const meta = await RunSpool.readMeta(dir);
        if (meta) report.push({ ...meta, sent: 0, left: 0, rejected: [], skipped: error.message });
      }
      continue; // a spool going away, or not a spool
    }
    try {
      report.push(await syncRun(spool, pedigreeDir, options));
    } finally {
      spool.close();
    }
  }
  return report;
}

async function syncRun(
  spool: RunSpool,
  pedigreeDir: string,
  options: { dryRun?: boolean; apiKey?: string; retryRejected?: boolean },
): Promise<SyncedRun> {
  const pending = await spool.unacked();
  let parked = await spool.rejected();
  const entry: SyncedRun = { ...spool.meta, sent: 0, left: pending.length, rejected: [] };
  if (options.dryRun) {
    entry.sent = pending.length + (options.retryRejected ? parked.length : 0);
    entry.left = 0;
    entry.rejected = options.retryRejected ? [] : parked.map((item) => item.reason);
    return entry;
  }
  const client = new HttpClient(
    resolveSettings({
      baseUrl: spool.meta.baseUrl,
      pedigreeDir,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    }),
  );
  // A server this process found unreachable before may be back: ask it once instead of waiting for the probe.
  if (client.circuit.isOpen && !(await client.circuit.probeNow())) return finish(entry, spool, parked);
  /** Sends one write; false when the server cannot take any more now (unreachable, refused key, come back later). */
  const send = async (item: SpoolEntry, stillParked: RejectedEntry[]): Promise<boolean> => {
    const blocker = blockerOf(item.op, stillParked);
    if (blocker) {
      const reason = `waits behind write ${blocker.seq} (${blocker.op.kind}), parked: ${blocker.reason}`;
      stillParked.push({ ...item, reason, heldBehind: blocker.seq, at: new Date().toISOString() });
      return true;
    }
    try {
      await sendOp(client, spool.meta, item.op);
      entry.sent++;
      return true;
    } catch (error) {
      const kind = failureKind(error);
      if (kind === "unreachable" || kind === "later" || kind === "auth") {
        if (kind === "auth") entry.skipped = (error as Error).message;
        return false;
      }
      stillParked.push({ ...item, ...parkedAnswer(error), at: new Date().toISOString() });
      return true;
    }
  };

  if (options.retryRejected && parked.length > 0) {
    const stillParked: RejectedEntry[] = [];
    let reachable = true;
    for (const [index, item] of parked.entries()) {
      reachable = await send(item, stillParked);
      if (!reachable) {
        stillParked.push(...parked.slice(index));
        break;
      }
    }
    await spool.replaceRejected(stillParked);
    parked = stillParked;
    if (!reachable) return finish(entry, spool, parked);
  }
  for (const item of pending) {
    const before = parked.length;
    if (!(await send(item, parked))) break;
    const newlyParked = parked.slice(before);
    for (const rejected of newlyParked) await spool.reject(rejected, rejected);
    await spool.ack(item.seq);
    entry.left--;
  }
  return finish(entry, spool, parked);
}

async function finish(entry: SyncedRun, spool: RunSpool, parked: RejectedEntry[]): Promise<SyncedRun> {
  entry.rejected = parked.map((item) => `${item.op.kind}: ${item.reason}`);
  await spool.removeIfDone();
  return entry;
}
