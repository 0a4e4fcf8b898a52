import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CreateRunBody, CreateVersionBody, UpdateRunBody, UseArtifactBody } from "@pedigree/protocol";

/** One write of a run, as it will be replayed against the server. */
export type SpooledOp =
  | { kind: "createRun"; body: CreateRunBody }
  | { kind: "useArtifact"; body: UseArtifactBody & { usedAt: string } }
  | {
      kind: "logArtifact";
      body: Omit<CreateVersionBody, "inlineBlobs">;
      /** sha256 → where the bytes are: a copy in the spool (small files) or the file the user added. */
      files: Record<string, string>;
    }
  | { kind: "updateRun"; body: UpdateRunBody };

export interface SpoolEntry {
  seq: number;
  op: SpooledOp;
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
 */
export class RunSpool {
  private nextSeq = 1;
  private pending: SpoolEntry[] = [];
  private lastAcked = 0;
  private fd: number | undefined;

  private constructor(
    readonly dir: string,
    readonly meta: RunSpoolMeta,
  ) {}

  static async create(pedigreeDir: string, meta: RunSpoolMeta): Promise<RunSpool> {
    const dir = join(spoolRoot(pedigreeDir), meta.runId);
    await mkdir(join(dir, "blobs"), { recursive: true });
    await writeFile(join(dir, "meta.json"), JSON.stringify(meta));
    const spool = new RunSpool(dir, meta);
    const entries = await readEntries(dir);
    spool.lastAcked = Number((await readFile(join(dir, "acked"), "utf8").catch(() => "0")).trim()) || 0;
    spool.pending = entries.filter((entry) => entry.seq > spool.lastAcked);
    spool.nextSeq = entries.reduce((max, entry) => Math.max(max, entry.seq), 0) + 1;
    return spool;
  }

  static async open(dir: string): Promise<RunSpool> {
    const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as RunSpoolMeta;
    return RunSpool.create(join(dir, "..", ".."), meta);
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

  /** How many ops wait for the server, read synchronously (for the exit hook, which cannot await). */
  get unackedCount(): number {
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

  /** Records an op the server refused for good (a 4xx): kept for the user to see, never dropped silently. */
  async reject(entry: SpoolEntry, reason: string): Promise<void> {
    const fd = openSync(join(this.dir, "rejected.jsonl"), "a");
    try {
      writeSync(fd, `${JSON.stringify({ ...entry, reason })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  async rejected(): Promise<(SpoolEntry & { reason: string })[]> {
    const text = await readFile(join(this.dir, "rejected.jsonl"), "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Removes the run's spool once everything is acknowledged and nothing was refused. */
  async removeIfDone(): Promise<boolean> {
    if (this.pending.length > 0 || (await this.rejected()).length > 0) return false;
    this.close();
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
