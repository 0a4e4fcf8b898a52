import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
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
 * The durable, ordered log of one run's writes: `<pedigreeDir>/spool/<runId>/ops.jsonl`, appended and fsynced
 * before an op is sent, and `acked` (the last seq the server confirmed), renamed into place. What a crashed or
 * offline process left unacked is replayed, in order, by the next process or `pedigree sync`.
 */
export class RunSpool {
  private nextSeq = 1;

  private constructor(
    readonly dir: string,
    readonly meta: RunSpoolMeta,
  ) {}

  static async create(pedigreeDir: string, meta: RunSpoolMeta): Promise<RunSpool> {
    const dir = join(spoolRoot(pedigreeDir), meta.runId);
    await mkdir(join(dir, "blobs"), { recursive: true });
    await writeFile(join(dir, "meta.json"), JSON.stringify(meta));
    const spool = new RunSpool(dir, meta);
    spool.nextSeq = (await spool.entries()).reduce((max, entry) => Math.max(max, entry.seq), 0) + 1;
    return spool;
  }

  static async open(dir: string): Promise<RunSpool> {
    const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as RunSpoolMeta;
    return RunSpool.create(join(dir, "..", ".."), meta);
  }

  /** Appends `op` durably and answers its sequence number. Synchronous so ops keep the order they were made in. */
  append(op: SpooledOp): number {
    const seq = this.nextSeq++;
    const fd = openSync(join(this.dir, "ops.jsonl"), "a");
    try {
      writeSync(fd, `${JSON.stringify({ seq, op })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return seq;
  }

  async entries(): Promise<SpoolEntry[]> {
    const text = await readFile(join(this.dir, "ops.jsonl"), "utf8").catch(() => "");
    // A line cut by a crash mid-append is not a complete op: it was never acknowledged to the caller either.
    return text.split("\n").flatMap((line) => {
      try {
        return line ? [JSON.parse(line) as SpoolEntry] : [];
      } catch {
        return [];
      }
    });
  }

  async acked(): Promise<number> {
    return Number((await readFile(join(this.dir, "acked"), "utf8").catch(() => "0")).trim()) || 0;
  }

  async unacked(): Promise<SpoolEntry[]> {
    const acked = await this.acked();
    return (await this.entries()).filter((entry) => entry.seq > acked);
  }

  async ack(seq: number): Promise<void> {
    const tmp = join(this.dir, `acked.${process.pid}.tmp`);
    const handle = await open(tmp, "w");
    await handle.writeFile(String(seq));
    await handle.sync();
    await handle.close();
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

  /** Removes the run's spool once everything is acknowledged and nothing was refused. */
  async removeIfDone(): Promise<boolean> {
    if ((await this.unacked()).length > 0 || (await this.rejected()).length > 0) return false;
    await rm(this.dir, { recursive: true, force: true });
    return true;
  }
}

export const spoolRoot = (pedigreeDir: string) => join(pedigreeDir, "spool");

/** Every run directory in the spool, oldest first. */
export async function listSpooledRuns(pedigreeDir: string): Promise<string[]> {
  const root = spoolRoot(pedigreeDir);
  const names = await readdir(root).catch(() => [] as string[]);
  return names.map((name) => join(root, name)).sort();
}
