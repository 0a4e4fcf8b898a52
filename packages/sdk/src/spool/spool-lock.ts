import { execFileSync } from "node:child_process";
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * The lock on a run's spool: `<spool>/lock`, `{ pid, startedAt, host }` of the process that writes the run (its
 * script) or sends it (`pedigree sync`). Made with O_EXCL, so two processes never both hold it. It is stale only
 * when that process is gone: no process has the pid, or the pid's process started at another time (the pid was
 * recycled). A lock from another host is never taken as stale.
 */
export interface SpoolLockHolder {
  pid: number;
  /** The holder process's start time as the kernel tells it (`/proc/<pid>/stat`), or `ps` elsewhere. */
  startedAt: string;
  host: string;
}

export class SpoolLocked extends Error {
  constructor(
    readonly dir: string,
    readonly holder: SpoolLockHolder,
  ) {
    super(`the spool ${dir} is in use by process ${holder.pid} on ${holder.host} (a live run or a running sync)`);
    this.name = "SpoolLocked";
  }
}

/** Takes the lock of the spool `dir`, or throws SpoolLocked when a live process holds it. */
export function lockSpool(dir: string): () => void {
  const path = join(dir, "lock");
  const me: SpoolLockHolder = { pid: process.pid, startedAt: startTimeOf(process.pid) ?? "", host: hostname() };
  for (let tries = 0; tries < 5; tries++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readHolder(path);
    if (holder && isLive(holder)) throw new SpoolLocked(dir, holder);
    breakStaleLock(path);
  }
  throw new Error(`could not take the lock of ${dir}`);
}

/**
 * Moves a stale lock aside. Two processes may both judge it stale: whoever renames second may have moved the
 * fresh lock of the first, so it checks what it moved and puts a live lock back.
 */
function breakStaleLock(path: string): void {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it: try again
  }
  const moved = readHolder(aside);
  if (moved && isLive(moved)) {
    try {
      linkSync(aside, path);
    } catch {
      // A third process made a new lock meanwhile: it holds the spool.
    }
  }
  rmSync(aside, { force: true });
}

function readHolder(path: string): SpoolLockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as SpoolLockHolder;
  } catch {
    return undefined; // cut by a crash mid-write: nobody holds it
  }
}

function isLive(holder: SpoolLockHolder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const startedAt = startTimeOf(holder.pid);
  return startedAt === undefined || startedAt === holder.startedAt;
}

/** When process `pid` started, or undefined when that cannot be known. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime, in clock ticks after boot); the command name (field 2) may hold spaces, so count from ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    if (process.platform === "linux") return undefined;
  }
  try {
    return execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}
