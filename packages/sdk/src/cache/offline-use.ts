import type { StoredEntry, VersionContents } from "@pedigree/protocol";
import type { Settings } from "../settings";
import { blobCacheOf } from "./blob-cache";
import { lastResolution, type ResolvedRef, recordResolvedRef } from "./resolved-refs";

/**
 * `useArtifact` and the cache: each ref the server resolves is recorded, and while the server is unreachable a
 * ref resolved before is answered from that record, but only when every stored file of the version is in the
 * cache (a version whose files cannot be had would only fail later, in the middle of the script).
 */
export interface RefKey {
  /** The ref as the script asked for it, and the project it was asked in. */
  ref: string;
  project: string;
}

export async function rememberResolution(
  settings: Settings,
  key: RefKey,
  version: VersionContents,
  via: ResolvedRef["via"],
): Promise<void> {
  await recordResolvedRef(settings.pedigreeDir, {
    baseUrl: settings.baseUrl,
    ...key,
    resolvedAt: new Date().toISOString(),
    version,
    ...(via ? { via } : {}),
  });
}

export type CachedAnswer = { found: true; record: ResolvedRef } | { found: false; why: string };

/** The last resolution of the ref when all its stored files are cached; else why not, for the error message. */
export async function answerFromCache(
  settings: Settings,
  key: RefKey,
  type: string | undefined,
): Promise<CachedAnswer> {
  const record = await lastResolution(settings.pedigreeDir, { baseUrl: settings.baseUrl, ...key });
  if (!record) return { found: false, why: `'${key.ref}' was never resolved on this machine` };
  const { version } = record;
  const name = `${version.artifact}:${version.version}`;
  if (type !== undefined && version.type !== type) {
    return { found: false, why: `'${key.ref}' was last resolved to ${name} of type '${version.type}', not '${type}'` };
  }
  const cache = blobCacheOf(settings);
  const stored = version.manifest.filter((entry): entry is StoredEntry => "sha256" in entry);
  const missing: string[] = [];
  for (const entry of stored) if (!(await cache.lookup(entry))) missing.push(entry.path);
  if (missing.length > 0) {
    return {
      found: false,
      why: `'${key.ref}' was resolved to ${name} at ${record.resolvedAt}, but ${missing.length} of its ${stored.length} file(s) are not in the cache ${cache.dir} (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", …" : ""})`,
    };
  }
  return { found: true, record };
}
