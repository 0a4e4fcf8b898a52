import { Readable } from "node:stream";
import { type DirectUpload, Limits, type ManifestEntry } from "@pedigree/protocol";
import { ApiError, badRequest, notFound } from "../errors";
import { BlobRejected, type BlobStore, type DirectTransfers, type StagedBlob } from "../store/blob-store";

/** Streams one upload into the store's staging area; a wrong digest is a 400 on `sha256`, an oversized one a 413. */
export async function stageUpload(store: BlobStore, sha256: string, content: Readable, maxBytes: number) {
  try {
    return await store.stage(sha256, content, maxBytes);
  } catch (error) {
    if (error instanceof BlobRejected && error.reason === "too_large")
      throw new ApiError("PAYLOAD_TOO_LARGE", error.message, "body");
    if (error instanceof BlobRejected) throw badRequest("sha256", error.message);
    throw error;
  }
}

/**
 * Verifies what `owner` PUT straight to the store for `upload`: a wrong digest is a 400 on `sha256`, an
 * oversized one a 413, nothing uploaded (or by another user: uploads are the asker's) a 404 on `upload`.
 */
export async function stageDirectUpload(
  direct: DirectTransfers,
  sha256: string,
  upload: string,
  owner: string,
  maxBytes: number,
) {
  try {
    return await direct.stageUploaded(sha256, upload, owner, maxBytes);
  } catch (error) {
    if (error instanceof BlobRejected && error.reason === "not_uploaded")
      throw notFound(`a direct upload '${upload}' of yours`, "upload");
    if (error instanceof BlobRejected && error.reason === "too_large")
      throw new ApiError("PAYLOAD_TOO_LARGE", error.message, "upload");
    if (error instanceof BlobRejected) throw badRequest("sha256", `${error.message}; nothing was kept`);
    throw error;
  }
}

/** Presigned URLs for the missing blobs large enough to go straight to the store (none when it has no such URLs). */
export async function directUploadsFor(
  store: BlobStore,
  manifest: readonly ManifestEntry[],
  missing: readonly string[],
  owner: string,
): Promise<DirectUpload[] | undefined> {
  const direct = store.direct;
  if (!direct || missing.length === 0) return undefined;
  const sizes = new Map(manifest.flatMap((entry) => ("sha256" in entry ? [[entry.sha256, entry.size] as const] : [])));
  const large = missing.filter((sha256) => (sizes.get(sha256) ?? 0) >= direct.minBytes);
  return Promise.all(
    large.map(async (sha256) => {
      const ticket = await direct.uploadUrl(sha256, sizes.get(sha256) ?? 0, owner);
      return { sha256, ...ticket, expiresAt: ticket.expiresAt.toISOString() };
    }),
  );
}

/**
 * Stages the small files sent inline with a manifest. Each must be a stored entry of that manifest, of the
 * size it declares; each is verified by its sha256 like any upload. Nothing is placed yet: the create does that
 * in its transaction. When one is refused, those staged before it are dropped.
 */
export async function stageInlineBlobs(
  store: BlobStore,
  manifest: readonly ManifestEntry[],
  inline: Record<string, string>,
): Promise<StagedBlob[]> {
  const entries = new Map(
    manifest.flatMap((entry, index) => ("sha256" in entry ? [[entry.sha256, { entry, index }] as const] : [])),
  );
  const decoded = Object.entries(inline).map(([sha256, base64]) => {
    const field = `inlineBlobs.${sha256}`;
    const named = entries.get(sha256);
    if (!named) throw badRequest(field, "inline blobs must be files of the manifest");
    const bytes = Buffer.from(base64, "base64");
    if (bytes.length > Limits.maxInlineBlobBytes)
      throw badRequest(field, `inline blobs are at most ${Limits.maxInlineBlobBytes} bytes`);
    if (bytes.length !== named.entry.size) {
      throw badRequest(
        `manifest.${named.index}.size`,
        `'${named.entry.path}' declares ${named.entry.size} bytes, but its inline content has ${bytes.length}`,
      );
    }
    return { sha256, bytes, field };
  });
  const total = decoded.reduce((sum, blob) => sum + blob.bytes.length, 0);
  if (total > Limits.maxInlineTotalBytes)
    throw badRequest("inlineBlobs", `inline blobs total at most ${Limits.maxInlineTotalBytes} bytes`);
  const staged: StagedBlob[] = [];
  try {
    for (const { sha256, bytes, field } of decoded) {
      try {
        staged.push(await store.stage(sha256, Readable.from([bytes]), Limits.maxInlineBlobBytes));
      } catch (error) {
        if (error instanceof BlobRejected) throw badRequest(field, error.message);
        throw error;
      }
    }
    return staged;
  } catch (error) {
    await Promise.all(staged.map((blob) => store.discard(blob)));
    throw error;
  }
}
