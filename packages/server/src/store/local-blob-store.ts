import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { access, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobRejected, type BlobStore, type StagedBlob } from "./blob-store";

/** An upload file untouched this long is dead even when its process seems alive (its pid taken by another). */
const DEFAULT_MAX_IDLE_MS = 60 * 60_000;
/** Temporary files of this process that are being written or wait to be placed: never removed as dead. */
const uploadsInProgress = new Set<string>();
const thisHost = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

/**
 * Blobs under `root/ab/cd/<sha256>`, staged in `root/tmp/<pid>.<uuid>.<host>` first, fsynced, then renamed into
 * place (and the directory fsynced, so a placed blob survives a power cut). The pid and host in a temporary
 * file's name tell whether the upload writing it can still finish.
 */
export function createLocalBlobStore(root: string): BlobStore {
  const pathOf = (sha256: string) => join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  const tmpDir = join(root, "tmp");
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );
  const release = async (staging: string) => {
    await rm(staging, { force: true });
    uploadsInProgress.delete(staging);
  };

  return {
    async stage(sha256, content, maxBytes) {
      await mkdir(tmpDir, { recursive: true });
      const staging = join(tmpDir, `${process.pid}.${randomUUID()}.${thisHost}`);
      uploadsInProgress.add(staging);
      const hash = createHash("sha256");
      let size = 0;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > maxBytes) return done(new BlobRejected("too_large", `blob is larger than ${maxBytes} bytes`));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(content, measure, createWriteStream(staging));
        const actual = hash.digest("hex");
        if (actual !== sha256) throw new BlobRejected("digest_mismatch", `content has sha256 ${actual}, not ${sha256}`);
        await fsync(staging);
        return { sha256, size, staging };
      } catch (error) {
        await release(staging);
        throw error;
      }
    },

    async place(blobs) {
      const touched = new Map<string, string | undefined>();
      for (const { sha256, staging } of blobs) {
        const finalPath = pathOf(sha256);
        if (await exists(finalPath)) {
          await release(staging);
          continue;
        }
        const created = await mkdir(dirname(finalPath), { recursive: true });
        await rename(staging, finalPath);
        uploadsInProgress.delete(staging);
        touched.set(dirname(finalPath), created ?? touched.get(dirname(finalPath)));
      }
      // Renames last only once their directories are on disk; a directory made here must be in its parent too.
      const synced = new Set<string>();
      const sync = async (dir: string) => {
        if (!synced.has(dir)) await fsync(dir);
        synced.add(dir);
      };
      for (const [dir, created] of touched) {
        await sync(dir);
        for (let at = dir; created && at.length >= created.length; ) {
          at = dirname(at);
          await sync(at);
        }
      }
    },

    discard: ({ staging }: StagedBlob) => release(staging),

    remove: (sha256) => rm(pathOf(sha256), { force: true }),

    async removeDeadUploads(maxIdleMs = DEFAULT_MAX_IDLE_MS) {
      const idleBefore = Date.now() - maxIdleMs;
      let removed = 0;
      for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
        const path = join(tmpDir, name);
        if (uploadsInProgress.has(path)) continue;
        const [pid, , host] = name.split(".");
        const owner = Number(pid);
        const ours = host === thisHost && Number.isInteger(owner) && owner > 0;
        let dead = ours && (owner === process.pid || !isAlive(owner));
        if (!dead) {
          const info = await stat(path).catch(() => null);
          dead = info !== null && info.mtimeMs < idleBefore;
        }
        // Checked again: an upload of this process may have begun since the directory was read.
        if (dead && !uploadsInProgress.has(path)) {
          await rm(path, { force: true });
          removed++;
        }
      }
      return removed;
    },

    async open(sha256): Promise<Readable | null> {
      const path = pathOf(sha256);
      return (await exists(path)) ? createReadStream(path) : null;
    },
  };
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
