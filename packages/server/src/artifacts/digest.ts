import { createHash } from "node:crypto";
import type { ManifestEntry } from "@pedigree/protocol";

/**
 * The version digest: sha256 over the manifest's entries sorted by path (byte order), each encoded as a
 * JSON array so no path or URI can be confused with a separator. Identical content, identical digest.
 */
export function manifestDigest(manifest: readonly ManifestEntry[]): string {
  const hash = createHash("sha256");
  for (const entry of [...manifest].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const encoded =
      "sha256" in entry
        ? ["file", entry.path, entry.sha256, entry.size]
        : ["ref", entry.path, entry.uri, entry.checksum ?? null, entry.size ?? null];
    hash.update(`${JSON.stringify(encoded)}\n`);
  }
  return hash.digest("hex");
}

export function manifestSize(manifest: readonly ManifestEntry[]): number {
  return manifest.reduce((total, entry) => total + (entry.size ?? 0), 0);
}

export function storedBlobs(manifest: readonly ManifestEntry[]): string[] {
  return [...new Set(manifest.flatMap((entry) => ("sha256" in entry ? [entry.sha256] : [])))];
}
