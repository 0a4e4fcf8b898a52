import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream, type Stats } from "node:fs";
import { chmod, copyFile, link, mkdir, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { isSafeRelativePath, type StoredEntry } from "@pedigree/protocol";
import { ValidationError } from "../errors";

/**
 * The content-addressed download cache: `<pedigreeDir>/cache/blobs/<aa>/<sha256>`, shared by every process of
 * the user. A blob enters only after its sha256 was verified (a download into `cache/tmp`, renamed into place,
 * so no process ever sees a partial blob), and is then hard-linked into download targets, or copied (copy-on-
 * write where the filesystem can) where a link is impossible (another filesystem) or unwanted (`copy`).
 *
 * A target file must not be able to corrupt the cache through its hard link, so a cached blob is sealed:
 * - read-only (0444): an ordinary in-place write of a target fails with EACCES;
 * - its mtime is a fixed stamp (`SEALED_MTIME`): any write that still happens (root ignores the mode bits, or
 *   someone chmods the file first) moves the mtime, and a blob whose mtime or size is not the sealed one is
 *   hashed again before it is used: kept (and sealed again) if its bytes are intact, else dropped and fetched.
 *   Only a write that restores the mtime afterwards on purpose goes unseen.
 * Least-recently-used order is the blob's atime, set by the cache on each use (reads through a target may move
 * it too: they are uses). `evictTo(maxBytes)` removes blobs oldest use first until the cache fits.
 *
 * Two processes at once: each download lands in a file of its own in `tmp/` and is renamed into place, so two
 * processes fetching the same blob both end with it (the later rename replaces identical bytes). An eviction can
 * remove a blob between another process's use of it and its link; that link fails with ENOENT and the blob is
 * fetched again (offline, the file is then missing): the window costs a download, never a wrong or partial file.
 */

/** The mtime every sealed blob carries: 2001-09-09T01:46:40Z, a second no write lands on. */
const SEALED_MTIME = 1_000_000_000;
/** Downloads cut by a killed process leave files in tmp/; older than this they are removed by an eviction. */
const STALE_TMP_MS = 60 * 60 * 1000;

export interface CacheUsage {
  dir: string;
  /** Blobs in the cache and their bytes (a blob still linked into a target takes no more room than that). */
  blobs: number;
  bytes: number;
  maxBytes: number;
  /** Refs resolved on this machine (for offline use). */
  refs: number;
}

export interface EvictionResult {
  removedBlobs: number;
  freedBytes: number;
  blobs: number;
  bytes: number;
}

/** Fetches a blob's verified bytes into `path` (a fresh file in the cache's tmp/); throws when it cannot. */
export type FetchBlob = (path: string) => Promise<void>;

export class BlobCache {
  /** Fetches of this process under way, by sha256: two entries with one content download it once. */
  private readonly fetching = new Map<string, Promise<string>>();
  /** Blobs this process added since its last eviction: a download that added none has nothing to evict. */
  private addedSinceEviction = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  blobPath(sha256: string): string {
    return join(this.dir, "blobs", sha256.slice(0, 2), sha256);
  }

  /** The path of the intact cached blob of `entry`, marked as used now, or undefined when it is not cached. */
  async lookup(entry: StoredEntry): Promise<string | undefined> {
    const path = this.blobPath(entry.sha256);
    const info = await stat(path).catch(() => undefined);
    if (!info || !(await this.intact(path, info, entry))) return undefined;
    await markUsed(path).catch(() => {});
    return path;
  }

  /** The path of the cached blob of `entry`, fetched into the cache first when it is not there. */
  async obtain(entry: StoredEntry, fetch: FetchBlob): Promise<string> {
    return (await this.lookup(entry)) ?? this.fetchOnce(entry, fetch);
  }

  /**
   * Writes `entry` at its path below `dir`: a hard link to (or a copy of) the cached blob, fetched and verified
   * into the cache first when it is not there (or `fetch` is undefined: then a missing blob throws).
   */
  async placeInto(dir: string, entry: StoredEntry, fetch: FetchBlob | undefined, options: { copy?: boolean } = {}) {
    if (!isSafeRelativePath(entry.path)) {
      throw new ValidationError(
        "BAD_REQUEST",
        `refusing to write outside the target directory: '${entry.path}'`,
        undefined,
        "path",
      );
    }
    const target = join(dir, ...entry.path.split("/"));
    for (let attempt = 0; ; attempt++) {
      const blob = (await this.lookup(entry)) ?? (fetch ? await this.fetchOnce(entry, fetch) : undefined);
      if (!blob) throw new Error(`'${entry.path}' (sha256 ${entry.sha256}) is not in the cache ${this.dir}`);
      try {
        await placeFile(blob, target, options.copy ?? false);
        return;
      } catch (error) {
        // Evicted by another process between the lookup and the link: fetch it again (a few times at most).
        if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 2 || !fetch) throw error;
      }
    }
  }

  /** Evicts down to the bound after this process added blobs (each process trims after its own additions). */
  async trim(): Promise<void> {
    if (this.addedSinceEviction === 0) return;
    this.addedSinceEviction = 0;
    await this.evictTo(this.maxBytes);
  }

  /** Removes blobs, least recently used first, until the cache holds at most `maxBytes`; and stale tmp files. */
  async evictTo(maxBytes: number): Promise<EvictionResult> {
    await this.removeStaleTmp();
    const blobs = await this.listBlobs();
    blobs.sort((a, b) => a.usedAt - b.usedAt);
    let bytes = blobs.reduce((sum, blob) => sum + blob.size, 0);
    let removedBlobs = 0;
    let freedBytes = 0;
    for (const blob of blobs) {
      if (bytes <= maxBytes) break;
      await rm(blob.path, { force: true });
      bytes -= blob.size;
      freedBytes += blob.size;
      removedBlobs++;
    }
    return { removedBlobs, freedBytes, blobs: blobs.length - removedBlobs, bytes };
  }

  async usage(): Promise<CacheUsage> {
    const blobs = await this.listBlobs();
    const refs = await readdir(join(this.dir, "refs")).catch(() => [] as string[]);
    return {
      dir: this.dir,
      blobs: blobs.length,
      bytes: blobs.reduce((sum, blob) => sum + blob.size, 0),
      maxBytes: this.maxBytes,
      refs: refs.filter((name) => name.endsWith(".json")).length,
    };
  }

  private fetchOnce(entry: StoredEntry, fetch: FetchBlob): Promise<string> {
    let fetching = this.fetching.get(entry.sha256);
    if (!fetching) {
      fetching = this.fetchIntoCache(entry, fetch).finally(() => this.fetching.delete(entry.sha256));
      this.fetching.set(entry.sha256, fetching);
    }
    return fetching;
  }

  /** `fetch` verifies the sha256 of what it writes; the file is sealed, then renamed to its blob path. */
  private async fetchIntoCache(entry: StoredEntry, fetch: FetchBlob): Promise<string> {
    const tmp = join(this.dir, "tmp", `${entry.sha256}.${process.pid}.${randomBytes(4).toString("hex")}`);
    const path = this.blobPath(entry.sha256);
    await mkdir(dirname(tmp), { recursive: true });
    await mkdir(dirname(path), { recursive: true });
    try {
      await fetch(tmp);
      const info = await stat(tmp);
      if (info.size !== entry.size) {
        throw new Error(`'${entry.path}': fetched ${info.size} bytes, the manifest says ${entry.size}`);
      }
      await seal(tmp);
      await rename(tmp, path);
      this.addedSinceEviction++;
      return path;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Sealed and of the right size; else hashed again: resealed when intact, removed when not. */
  private async intact(path: string, info: Stats, entry: StoredEntry): Promise<boolean> {
    if (info.size !== entry.size) {
      await rm(path, { force: true });
      return false;
    }
    if (Math.floor(info.mtimeMs / 1000) === SEALED_MTIME && (info.mode & 0o222) === 0) return true;
    if ((await sha256Of(path).catch(() => undefined)) === entry.sha256) {
      await seal(path);
      return true;
    }
    await rm(path, { force: true });
    return false;
  }

  private async listBlobs(): Promise<{ path: string; size: number; usedAt: number }[]> {
    const root = join(this.dir, "blobs");
    const found: { path: string; size: number; usedAt: number }[] = [];
    for (const prefix of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, prefix)).catch(() => [] as string[])) {
        const path = join(root, prefix, name);
        const info = await stat(path).catch(() => undefined);
        if (info?.isFile()) found.push({ path, size: info.size, usedAt: info.atimeMs });
      }
    }
    return found;
  }

  private async removeStaleTmp(): Promise<void> {
    const tmp = join(this.dir, "tmp");
    const now = Date.now();
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const info = await stat(join(tmp, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_TMP_MS) await rm(join(tmp, name), { force: true });
    }
  }
}

/** Read-only, with the sealed mtime, used now. */
async function seal(path: string): Promise<void> {
  await chmod(path, 0o444);
  await utimes(path, new Date(), SEALED_MTIME);
}

/** Moves the blob to the front of the LRU order: its atime, keeping the sealed mtime. */
function markUsed(path: string): Promise<void> {
  return utimes(path, new Date(), SEALED_MTIME);
}

/**
 * Makes `target` the blob's content, atomically (a name of its own, then a rename over whatever is there): a
 * hard link, or where that is impossible or `copy` is asked, a copy (a copy-on-write clone where the
 * filesystem makes one) that the user may edit.
 */
async function placeFile(blob: string, target: string, copy: boolean): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    let linked = false;
    if (!copy) {
      try {
        await link(blob, temp);
        linked = true;
      } catch (error) {
        if (!CANNOT_LINK.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
      }
    }
    if (!linked) {
      await copyFile(blob, temp, constants.COPYFILE_FICLONE);
      await chmod(temp, 0o644);
    }
    await rename(temp, target);
  } finally {
    // rename() of two links to one file does nothing and leaves `temp`.
    await rm(temp, { force: true });
  }
}

/** Errors of link(2) that mean "not here" (another filesystem, no hard links, too many): copy instead. */
const CANNOT_LINK = new Set(["EXDEV", "EPERM", "ENOTSUP", "EOPNOTSUPP", "EMLINK", "ENOSYS"]);

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

const caches = new Map<string, BlobCache>();

/** The cache of `pedigreeDir`, one per process (so its in-flight fetches are shared). */
export function blobCacheOf(settings: { pedigreeDir: string; cacheMaxBytes: number }): BlobCache {
  const dir = join(settings.pedigreeDir, "cache");
  let cache = caches.get(dir);
  if (!cache || cache.maxBytes !== settings.cacheMaxBytes) {
    cache = new BlobCache(dir, settings.cacheMaxBytes);
    caches.set(dir, cache);
  }
  return cache;
}
