import type { CacheUsage, EvictionResult } from "./cache/blob-cache";
import { type PedigreeOptions, resolveSettings } from "./settings";

export type { CacheUsage, EvictionResult };

type CacheOptions = Pick<PedigreeOptions, "pedigreeDir" | "cacheMaxBytes">;

/** What the download cache (`$PEDIGREE_DIR/cache`) holds, and its bound. */
export async function cacheInfo(options: CacheOptions = {}): Promise<CacheUsage> {
  const { blobCacheOf } = await import("./cache/blob-cache");
  return blobCacheOf(resolveSettings(options)).usage();
}

/**
 * Evicts cached blobs, least recently used first, until the cache holds at most `maxBytes` (default: its bound,
 * PEDIGREE_CACHE_MAX_BYTES); also removes what killed downloads left behind.
 */
export async function cleanupCache(options: CacheOptions & { maxBytes?: number } = {}): Promise<EvictionResult> {
  const { blobCacheOf } = await import("./cache/blob-cache");
  const cache = blobCacheOf(resolveSettings(options));
  return cache.evictTo(options.maxBytes ?? cache.maxBytes);
}
