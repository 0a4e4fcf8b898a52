import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { access, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobRejected, type BlobStore } from "./blob-store";

/** Blobs under `root/ab/cd/<sha256>`, written to `root/tmp` first, fsynced, then renamed into place. */
export function createLocalBlobStore(root: string): BlobStore {
  const pathOf = (sha256: string) => join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );

  return {
    has: (sha256) => exists(pathOf(sha256)),

    async put(sha256, content, maxBytes) {
      const finalPath = pathOf(sha256);
      const existing = await stat(finalPath).catch(() => null);
      if (existing) {
        content.resume();
        return { size: existing.size, created: false };
      }
      const tmpDir = join(root, "tmp");
      await mkdir(tmpDir, { recursive: true });
      const tmpPath = join(tmpDir, randomUUID());
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
        await pipeline(content, measure, createWriteStream(tmpPath));
        const actual = hash.digest("hex");
        if (actual !== sha256) {
          throw new BlobRejected("digest_mismatch", `content has sha256 ${actual}, not ${sha256}`);
        }
        const handle = await open(tmpPath, "r");
        await handle.sync();
        await handle.close();
        await mkdir(join(root, sha256.slice(0, 2), sha256.slice(2, 4)), { recursive: true });
        await rename(tmpPath, finalPath);
        return { size, created: true };
      } finally {
        await rm(tmpPath, { force: true });
      }
    },

    async removeStaleUploads(before) {
      const tmpDir = join(root, "tmp");
      let removed = 0;
      for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
        const info = await stat(join(tmpDir, name)).catch(() => null);
        if (info && info.mtime < before) {
          await rm(join(tmpDir, name), { force: true });
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
