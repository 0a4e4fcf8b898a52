import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { Limits } from "@pedigree/protocol";
import type { HttpClient } from "../client";
import { PedigreeError } from "../errors";
import { type ProgressCallback, sleep } from "../transfer";
import { isTransient, type OpResult, sendOp } from "./replay";
import type { RunSpool, SpoolEntry, SpooledOp } from "./spool-log";

export type Submitted<T> = { queued: false; result: T } | { queued: true };

interface Waiter {
  resolve(result: Submitted<OpResult>): void;
  reject(error: unknown): void;
}

/**
 * Sends a run's writes in order through its spool. A write is on disk before it is sent, so nothing is lost
 * when the server or this process dies; a caller waits at most `maxBlockMs` for the server and otherwise goes
 * on while the write stays queued and is retried in the background with backoff.
 */
/**
 * `promise`, or undefined once `ms` have passed. The timer is cleared as soon as the promise settles, so a
 * finished script is not kept alive by it.
 */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class RunWriter {
  private readonly waiters = new Map<number, Waiter>();
  private readonly progress = new Map<number, ProgressCallback>();
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 500;
  private closed = false;

  constructor(
    private readonly client: HttpClient,
    readonly spool: RunSpool,
    private readonly options: { offline: boolean; maxBlockMs: number },
  ) {}

  /** Copies small files into the spool so a later replay does not depend on the script keeping them. */
  async keepSmallFiles(files: Record<string, string>, sizes: Map<string, number>): Promise<Record<string, string>> {
    const kept: Record<string, string> = {};
    for (const [sha256, path] of Object.entries(files)) {
      if ((sizes.get(sha256) ?? Number.POSITIVE_INFINITY) <= Limits.maxInlineBlobBytes) {
        const copy = join(this.spool.dir, "blobs", sha256);
        await copyFile(path, copy);
        kept[sha256] = copy;
      } else {
        kept[sha256] = path;
      }
    }
    return kept;
  }

  async submit<T extends OpResult>(
    op: SpooledOp,
    options: { onProgress?: ProgressCallback | undefined } = {},
  ): Promise<Submitted<T>> {
    const seq = this.spool.append(op);
    if (this.options.offline) {
      this.spool.persist();
      return { queued: true };
    }
    if (options.onProgress) this.progress.set(seq, options.onProgress);
    const answered = new Promise<Submitted<OpResult>>((resolve, reject) => this.waiters.set(seq, { resolve, reject }));
    this.pump();
    const outcome = (await withTimeout(answered, this.options.maxBlockMs)) ?? ({ queued: true } as const);
    if (outcome.queued) this.spool.persist();
    this.waiters.delete(seq);
    this.progress.delete(seq);
    return outcome as Submitted<T>;
  }

  /** Waits up to `timeoutMs` for every queued write to reach the server; answers how many are still queued. */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.options.offline) this.pump();
      await withTimeout(this.pumping ?? Promise.resolve(), Math.max(0, deadline - Date.now()));
      const left = (await this.spool.unacked()).length;
      if (left === 0 || this.options.offline) return left;
      await sleep(Math.min(this.retryDelayMs, Math.max(0, deadline - Date.now())));
    }
    return (await this.spool.unacked()).length;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.spool.persist();
    this.spool.close();
  }

  private pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      // The running drain may already have looked at the log: make sure it looks again.
      this.pumpAgain = true;
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.pumpAgain = false;
    this.pumping = this.drain().finally(() => {
      this.pumping = undefined;
      if (this.pumpAgain && this.retryTimer === undefined) this.pump();
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const [entry] = await this.spool.unacked();
      if (!entry) {
        this.retryDelayMs = 500;
        return;
      }
      const sent = await this.sendEntry(entry);
      if (!sent) {
        this.spool.persist();
        return this.scheduleRetry();
      }
    }
  }

  /** True when the entry is settled (sent, or refused for good); false on a transient failure. */
  private async sendEntry(entry: SpoolEntry): Promise<boolean> {
    try {
      const result = await sendOp(this.client, this.spool.meta, entry.op, this.progress.get(entry.seq));
      await this.spool.ack(entry.seq);
      this.waiters.get(entry.seq)?.resolve({ queued: false, result });
      return true;
    } catch (error) {
      if (isTransient(error as Error)) return false;
      const waiter = this.waiters.get(entry.seq);
      // A caller still waiting is told; an op nobody waits for any more is kept in rejected.jsonl, never dropped.
      if (!waiter)
        await this.spool.reject(
          entry,
          error instanceof PedigreeError ? `${error.code}: ${error.message}` : String(error),
        );
      await this.spool.ack(entry.seq);
      waiter?.reject(error);
      return true;
    }
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.retryDelayMs);
    this.retryTimer.unref();
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, 30_000);
  }
}
