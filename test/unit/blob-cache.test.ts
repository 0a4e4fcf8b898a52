import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseByteSize } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobCache } from "../../packages/sdk/src/cache/blob-cache";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pedigree-blob-cache-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const entryOf = (path: string, bytes: string) => ({
  path,
  sha256: createHash("sha256").update(bytes).digest("hex"),
  size: Buffer.byteLength(bytes),
});

describe("sdk cache: what enters the blob cache", () => {
  it("keeps nothing of a fetch that failed or brought the wrong size", async () => {
    const cache = new BlobCache(join(dir, "refused"), 1e9);
    const entry = entryOf("a.txt", "hello");
    await expect(cache.placeInto(join(dir, "out-refused"), entry, (into) => writeFile(into, "hel"))).rejects.toThrow(
      "'a.txt': fetched 3 bytes, the manifest says 5",
    );
    await expect(
      cache.placeInto(join(dir, "out-refused"), entry, async () => {
        throw new Error("connection reset");
      }),
    ).rejects.toThrow("connection reset");
    expect(readdirSync(join(dir, "refused", "tmp"))).toEqual([]);
    expect(existsSync(cache.blobPath(entry.sha256))).toBe(false);
    expect(existsSync(join(dir, "out-refused", "a.txt"))).toBe(false);
  });

  it("fetches a content once for all entries of a download that hold it", async () => {
    const cache = new BlobCache(join(dir, "once"), 1e9);
    let fetches = 0;
    const fetch = async (into: string) => {
      fetches++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      await writeFile(into, "same bytes");
    };
    const target = join(dir, "out-once");
    await Promise.all(["a.txt", "b/c.txt"].map((path) => cache.placeInto(target, entryOf(path, "same bytes"), fetch)));
    expect(fetches).toBe(1);
    expect(readFileSync(join(target, "b", "c.txt"), "utf8")).toBe("same bytes");
  });

  it("fetches a blob again when another process evicts it between the lookup and the link", async () => {
    /** A cache whose blob another process removes right after each of the next `evictions` lookups. */
    class RacedCache extends BlobCache {
      evictions = 0;
      override async lookup(entry: Parameters<BlobCache["lookup"]>[0]) {
        const path = await super.lookup(entry);
        if (path && this.evictions > 0) {
          this.evictions--;
          await rm(path, { force: true });
        }
        return path;
      }
    }
    const cache = new RacedCache(join(dir, "raced"), 1e9);
    const entry = entryOf("w.bin", "weights");
    let fetches = 0;
    const fetch = async (into: string) => {
      fetches++;
      await writeFile(into, "weights");
    };
    await cache.placeInto(join(dir, "out-raced-1"), entry, fetch);
    cache.evictions = 1;
    await cache.placeInto(join(dir, "out-raced-2"), entry, fetch);
    expect(fetches).toBe(2);
    expect(readFileSync(join(dir, "out-raced-2", "w.bin"), "utf8")).toBe("weights");
    // Offline (nothing to fetch with) the race leaves the file missing, and says so; never a partial file.
    cache.evictions = 1;
    await expect(cache.placeInto(join(dir, "out-raced-3"), entry, undefined)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(join(dir, "out-raced-3"))).toEqual([]);
  });

  it("refuses to place a file outside the target directory", async () => {
    const cache = new BlobCache(join(dir, "unsafe"), 1e9);
    await expect(cache.placeInto(join(dir, "out"), entryOf("../escape", "x"), undefined)).rejects.toThrow(
      "refusing to write outside the target directory: '../escape'",
    );
  });
});

describe("sdk cache: sizes", () => {
  it("reads bytes, decimal and binary units", () => {
    expect(parseByteSize("0")).toBe(0);
    expect(parseByteSize("123")).toBe(123);
    expect(parseByteSize("10GB")).toBe(10_000_000_000);
    expect(parseByteSize("1.5 kB")).toBe(1500);
    expect(parseByteSize("512MiB")).toBe(512 * 2 ** 20);
    for (const bad of ["", "lots", "-1GB", "10 parsecs", "1e3"]) expect(parseByteSize(bad), bad).toBeUndefined();
  });
});
