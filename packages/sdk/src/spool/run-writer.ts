import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { Limits } from "@pedigree/protocol";
import { type HttpClient, sleep } from "../client";
import type { AuthError } from "../errors";
import type { ProgressCallback } from "../transfer";
import { blockerOf, failureKind, type OpResult, parkedAnswer, sendOp } from "./replay";
import type { RejectedEntry, RunSpool, SpoolEntry, SpooledOp } from "./spool-log";

/** Why a write was left queued instead of answered. */
export type QueuedReason =
  | { kind: "offline" }
  /** The server is known unreachable (the circuit is open): the write did not wait at all. */
  | { kind: "unreachable"; message: string }
  /** `maxBlockMs` passed without an answer. */
  | { kind: "slow"; message: string }
  /** Parked in rejected.jsonl: the server kept failing it with 5xx, or it waits behind a write that was. */
  | { kind: "parked"; entry: RejectedEntry; error: unknown };

export type Submitted<T> = { queued: false; result: T } | { queued: true; reason: QueuedReason };

interface Waiter {
  resolve(result: Submitted<OpResult>): void;
  reject(error: unknown): void;
}

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

/**
 * Sends a run's writes in order through its spool. A write is on disk before it is sent, so nothing is lost
 * when the server or this process dies. A caller waits at most `maxBlockMs` for the server, and not at all
 * once the server is known unreachable (the client's circuit is open): the write stays queued and is sent
 * when the circuit closes again. A write the server keeps failing with 5xx is parked in rejected.jsonl and
 * the writes after it go on (but those that need it, see `blockerOf`). A refused key (401) stops the run's
 * sending: every later call throws the AuthError, the writes stay queued for `pedigree sync`.
 */
export class RunWriter {
  private readonly waiters = new Map<number, Waiter>();
  private readonly progress = new Map<number, ProgressCallback>();
  private readonly parked: RejectedEntry[] = [];
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 500;
  private closed = false;
  private keyRefused: AuthError | undefined;
  private readonly stopListening: () => void;

  constructor(
    private readonly client: HttpClient,
    readonly spool: RunSpool,
    private readonly options: { offline: boolean; maxBlockMs: number },
  ) {
    this.stopListening = client.circuit.onClosed(() => this.pump());
  }

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

  /** Writes parked in rejected.jsonl by this writer. */
  get parkedCount(): number {
    return this.parked.length;
  }

  async submit<T extends OpResult>(
    op: SpooledOp,
    options: { onProgress?: ProgressCallback | undefined } = {},
  ): Promise<Submitted<T>> {
    const seq = this.spool.append(op);
    if (this.options.offline) return this.leftQueued({ kind: "offline" });
    if (this.keyRefused) {
      this.spool.persist();
      throw this.keyRefused;
    }
    const { circuit } = this.client;
    if (circuit.isOpen) {
      return this.leftQueued({
        kind: "unreachable",
        message: `${circuit.baseUrl} is unreachable: ${circuit.description}`,
      });
    }
    if (options.onProgress) this.progress.set(seq, options.onProgress);
    const answered = new Promise<Submitted<OpResult>>((resolve, reject) => this.waiters.set(seq, { resolve, reject }));
    this.pump();
    const unreachable = circuit.whenOpen().then(
      (): Submitted<OpResult> => ({
        queued: true,
        reason: { kind: "unreachable", message: `${circuit.baseUrl} is unreachable: ${circuit.description}` },
      }),
    );
    try {
      const outcome = await withTimeout(Promise.race([answered, unreachable]), this.options.maxBlockMs);
      if (outcome) {
        if (outcome.queued) this.spool.persist();
        return outcome as Submitted<T>;
      }
      // A whole budget without an answer: a probe tells a slow server from one that is not there at all.
      circuit.suspect();
      return this.leftQueued({
        kind: "slow",
        message: `${circuit.baseUrl} did not answer within maxBlockMs (${this.options.maxBlockMs} ms)`,
      });
    } finally {
      this.waiters.delete(seq);
      this.progress.delete(seq);
    }
  }

  /**
   * Waits up to `timeoutMs` for every queued write to reach the server, but not while it is unreachable (one
   * probe asks first); answers how many are still queued.
   */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const { circuit } = this.client;
    while (Date.now() < deadline) {
      if (this.options.offline || this.keyRefused) break;
      if (circuit.isOpen && !(await circuit.probeNow())) break;
      this.pump();
      const before = this.spool.pendingCount;
      const settled = await withTimeout(
        Promise.race([this.pumping ?? Promise.resolve(), circuit.whenOpen()]).then(() => true),
        Math.min(this.options.maxBlockMs, Math.max(0, deadline - Date.now())),
      );
      if (this.spool.pendingCount === 0) return 0;
      // No write went through for a whole maxBlockMs: is the server there at all?
      if (!settled && this.spool.pendingCount === before) circuit.suspect();
      else if (!circuit.isOpen) await sleep(Math.min(this.retryDelayMs, Math.max(0, deadline - Date.now())));
    }
    return this.spool.pendingCount;
  }

  /** The AuthError that stopped this run's sending, if the server refused the key. */
  get refusedKey(): AuthError | undefined {
    return this.keyRefused;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stopListening();
    this.spool.persist();
    this.spool.close();
  }

  private leftQueued<T>(reason: QueuedReason): Submitted<T> {
    this.spool.persist();
    return { queued: true, reason };
  }

  private pump(): void {
    if (this.closed || this.options.offline || this.keyRefused) return;
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
      if (this.closed) return;
      const [entry] = await this.spool.unacked();
      if (!entry) {
        this.retryDelayMs = 500;
        return;
      }
      if (!(await this.sendEntry(entry))) return;
    }
  }

  /** True when the entry is settled (sent, parked or refused for good); false when it stays queued. */
  private async sendEntry(entry: SpoolEntry): Promise<boolean> {
    const blocker = blockerOf(entry.op, this.parked);
    if (blocker) {
      await this.park(entry, {
        reason: `waits behind write ${blocker.seq} (${blocker.op.kind}), parked: ${blocker.reason}`,
        heldBehind: blocker.seq,
      });
      return true;
    }
    try {
      const result = await sendOp(this.client, this.spool.meta, entry.op, this.progress.get(entry.seq));
      await this.spool.ack(entry.seq);
      this.waiters.get(entry.seq)?.resolve({ queued: false, result });
      return true;
    } catch (error) {
      switch (failureKind(error)) {
        case "unreachable":
          this.spool.persist();
          // The circuit's closing pumps again; a failure that did not open it is retried on a timer.
          if (!this.client.circuit.isOpen) this.scheduleRetry();
          return false;
        case "later":
          this.spool.persist();
          this.scheduleRetry((error as AuthError).retryAfterMs);
          return false;
        case "auth":
          this.spool.persist();
          this.keyRefused = error as AuthError;
          for (const waiter of this.waiters.values()) waiter.reject(error);
          return false;
        case "park":
          await this.park(entry, parkedAnswer(error), error);
          return true;
        case "refused": {
          const waiter = this.waiters.get(entry.seq);
          // A caller still waiting is told; an op nobody waits for any more is kept in rejected.jsonl, never dropped.
          if (!waiter) await this.spool.reject(entry, parkedAnswer(error));
          await this.spool.ack(entry.seq);
          waiter?.reject(error);
          return true;
        }
      }
    }
  }

  private async park(entry: SpoolEntry, answer: Omit<RejectedEntry, "seq" | "op" | "at">, error?: unknown) {
    await this.spool.reject(entry, answer);
    const parked = { ...entry, ...answer, at: new Date().toISOString() };
    this.parked.push(parked);
    await this.spool.ack(entry.seq);
    this.waiters.get(entry.seq)?.resolve({ queued: true, reason: { kind: "parked", entry: parked, error } });
  }

  private scheduleRetry(afterMs?: number): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.pump();
      },
      Math.max(afterMs ?? 0, this.retryDelayMs),
    );
    this.retryTimer.unref();
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, 30_000);
  }
}
