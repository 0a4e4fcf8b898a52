import { Readable } from "node:stream";
import { Limits, type ManifestEntry } from "@pedigree/protocol";
import type { Db } from "../db/client";
import { blobs } from "../db/schema";
import { ApiError, badRequest } from "../errors";
import { BlobRejected, type BlobStore } from "../store/blob-store";

export interface StoredBlob {
  sha256: string;
  size: number;
}

/** Makes stored blobs known to the database (after their bytes are safely in the store). */
export async function recordBlobs(tx: Db, stored: StoredBlob[]): Promise<void> {
  if (stored.length > 0) await tx.insert(blobs).values(stored).onConflictDoNothing();
}

/** Streams one upload into the store; a wrong digest is a 400 on `sha256`, an oversized one a 413. */
export async function storeBlob(store: BlobStore, sha256: string, content: Readable, maxBytes: number) {
  try {
    return await store.put(sha256, content, maxBytes);
  } catch (error) {
    if (error instanceof BlobRejected && error.reason === "too_large")
      throw new ApiError("PAYLOAD_TOO_LARGE", error.message, "body");
    if (error instanceof BlobRejected) throw badRequest("sha256", error.message);
    throw error;
  }
}

/**
 * Stores the small files sent inline with a manifest. Each must be a stored entry of that manifest; each is
 * verified by its sha256 like any upload.
 */
export async function storeInlineBlobs(
  store: BlobStore,
  manifest: readonly ManifestEntry[],
  inline: Record<string, string>,
): Promise<StoredBlob[]> {
  const sizes = new Map(manifest.flatMap((entry) => ("sha256" in entry ? [[entry.sha256, entry.size] as const] : [])));
  const decoded = Object.entries(inline).map(([sha256, base64]) => {
    const field = `inlineBlobs.${sha256}`;
    if (!sizes.has(sha256)) throw badRequest(field, "inline blobs must be files of the manifest");
    const bytes = Buffer.from(base64, "base64");
    if (bytes.length > Limits.maxInlineBlobBytes)
      throw badRequest(field, `inline blobs are at most ${Limits.maxInlineBlobBytes} bytes`);
    return { sha256, bytes, field };
  });
  const total = decoded.reduce((sum, blob) => sum + blob.bytes.length, 0);
  if (total > Limits.maxInlineTotalBytes)
    throw badRequest("inlineBlobs", `inline blobs total at most ${Limits.maxInlineTotalBytes} bytes`);
  const stored: StoredBlob[] = [];
  for (const { sha256, bytes, field } of decoded) {
    try {
      await store.put(sha256, Readable.from([bytes]), Limits.maxInlineBlobBytes);
    } catch (error) {
      if (error instanceof BlobRejected) throw badRequest(field, error.message);
      throw error;
    }
    stored.push({ sha256, size: bytes.length });
  }
  return stored;
}
