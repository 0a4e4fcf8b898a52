import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CreateRunBody, CreateVersionBody, UpdateRunBody, UseArtifactBody } from "@pedigree/protocol";
import type { ContentSource } from "../artifact";
import { lockSpool } from "./spool-lock";

/** One write of a run, as it will be replayed against the server. */
export type SpooledOp =
  | { kind: "createRun"; body: CreateRunBody }
  | { kind: "useArtifact"; body: UseArtifactBody & { usedAt: string } }
  | {
      kind: "logArtifact";
      body: Omit<CreateVersionBody, "inlineBlobs">;
      /** sha256 → where the bytes are: a copy in the spool (small files) or the file the user added. */
      files: Record<string, string>;
      /** sha256 → the version a draft's file held by reference came from (no local file). */
      sources?: Record<string, ContentSource>;
    }
  | { kind: "updateRun"; body: UpdateRunBody };

export interface SpoolEntry {
  seq: number;
  op: SpooledOp;
}

/** A write parked in `rejected.jsonl`: refused for good, failing with 5xx after every retry, or held behind one. */
export interface RejectedEntry extends SpoolEntry {
  /** The server's answer ("the server answered 500 to POST /…"), or why the write waits. */
  reason: string;
  status?: number | undefined;
  /** The seq of the parked write this one depends on (a run's later writes wait behind its parked creation). */
  heldBehind?: number | undefined;
  at: string;
}

export interface RunSpoolMeta {
  baseUrl: string;
  project: string;
  runId: string;
}

/**
 * The ordered log of one run's writes: `<pedigreeDir>/spool/<runId>/ops.jsonl`, appended before an op is sent,
 * and `acked` (the last seq the server confirmed), renamed into place. What a crashed, killed or offline process
 * left unacked is replayed, in order, by the next process or `pedigree sync`.
 *
 * Appends reach the operating system at once (so they outlive the process), and are fsynced to the disk when an
 * op has to wait (`persist`): an op the server took in the meantime needs no disk flush. The pending ops are also
 * kept in memory so sending never re-reads the file.
 *
 * The process that writes the run, or a `pedigree sync` sending it, holds the spool's lock (see spool-lock.ts)
 * from `create`/`open` to `close`.
 */
export class RunSpool {
  private nextSeq = 1;
  private pending: SpoolEntry[] = [];
  private lastAcked = 0;
  private fd: number | undefined;

  private constructor(
    readonly dir: string,
    readonly meta: RunSpoolMeta,
    private readonly unlock: () => void,
  ) {}

  /** The spool of a new run, locked by this process. */
  static async create(pedigreeDir: string, meta: RunSpoolMeta): Promise<RunSpool> {
    const dir = join(spoolRoot(pedigreeDir), meta.runId);
    await mkdir(join(dir, "blobs"), { recursive: true });
    const unlock = lockSpool(dir);
    await writeFile(join(dir, "meta.json"), JSON.stringify(meta));
    return RunSpool.load(dir, meta, unlock);
  }

  /** A spool another process left; throws SpoolLocked while a live process holds it. */
  static async open(dir: string): Promise<RunSpool> {
    const unlock = lockSpool(dir);
    try {
      const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as RunSpoolMeta;
      return await RunSpool.load(dir, meta, unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /** The run a spool directory holds, without locking it (for reports). */
  static async readMeta(dir: string): Promise<RunSpoolMeta | undefined> {
    return readFile(join(dir, "meta.json"), "utf8")
      .then((text) => JSON.parse(text) as RunSpoolMeta)
      .catch(() => undefined);
  }

  private static async load(dir: string, meta: RunSpoolMeta, unlock: () => void): Promise<RunSpool> {
    const spool = new RunSpool(dir, meta, unlock);
    const entries = await readEntries(dir);
    spool.lastAcked = Number((await readFile(join(dir, "acked"), "utf8").catch(() => "0")).trim()) || 0;
    spool.pending = entries.filter((entry) => entry.seq > spool.lastAcked);
    spool.nextSeq = entries.reduce((max, entry) => Math.max(max, entry.seq), 0) + 1;
    return spool;
  }

  /** Appends `op` and answers its sequence number. Synchronous so ops keep the order they were made in. */
  append(op: SpooledOp): number {
    const entry = { seq: this.nextSeq++, op };
    this.fd ??= openSync(join(this.dir, "ops.jsonl"), "a");
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    this.pending.push(entry);
    return entry.seq;
  }

  /** Flushes the log to the disk: called when ops are left waiting for the server. */
  persist(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  /** How many ops wait for the server, read synchronously (the exit hook cannot await). */
  get pendingCount(): number {
    return this.pending.length;
  }

  async unacked(): Promise<SpoolEntry[]> {
    return [...this.pending];
  }

  /** Marks everything up to `seq` as delivered. Not fsynced: a lost ack only replays an idempotent op. */
  async ack(seq: number): Promise<void> {
    this.lastAcked = Math.max(this.lastAcked, seq);
    this.pending = this.pending.filter((entry) => entry.seq > this.lastAcked);
    const tmp = join(this.dir, `acked.${process.pid}.tmp`);
    await writeFile(tmp, String(this.lastAcked));
    await rename(tmp, join(this.dir, "acked"));
  }

  /** Parks an op in rejected.jsonl (fsynced): kept for the user to see and for `sync --retry-rejected`. */
  async reject(entry: SpoolEntry, answer: Omit<RejectedEntry, "seq" | "op" | "at">): Promise<void> {
    const fd = openSync(join(this.dir, "rejected.jsonl"), "a");
    try {
      writeSync(fd, `${JSON.stringify({ ...entry, ...answer, at: new Date().toISOString() })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  async rejected(): Promise<RejectedEntry[]> {
    const text = await readFile(join(this.dir, "rejected.jsonl"), "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }

  /** Rewrites rejected.jsonl with what is still parked after `sync --retry-rejected` (renamed into place). */
  async replaceRejected(entries: RejectedEntry[]): Promise<void> {
    const tmp = join(this.dir, `rejected.${process.pid}.tmp`);
    await writeFile(tmp, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
    await rename(tmp, join(this.dir, "rejected.jsonl"));
  }

  /** Closes the log and gives up the lock. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.unlock();
  }

  /** Removes the run's spool once everything is acknowledged and nothing was refused. */
  async removeIfDone(): Promise<boolean> {
    if (this.pending.length > 0 || (await this.rejected()).length > 0) return false;
    // Removed while still locked, so no sync starts on a spool going away.
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    await rm(this.dir, { recursive: true, force: true });
    return true;
  }
}

async function readEntries(dir: string): Promise<SpoolEntry[]> {
  const text = await readFile(join(dir, "ops.jsonl"), "utf8").catch(() => "");
  // A line cut by a crash mid-append is not a complete op: it was never acknowledged to the caller either.
  return text.split("\n").flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as SpoolEntry] : [];
    } catch {
      return [];
    }
  });
}

export const spoolRoot = (pedigreeDir: string) => join(pedigreeDir, "spool");

/** Every run directory in the spool, oldest first. */
export async function listSpooledRuns(pedigreeDir: string): Promise<string[]> {
  const root = spoolRoot(pedigreeDir);
  const names = await readdir(root).catch(() => [] as string[]);
  return names.map((name) => join(root, name)).sort();
}
