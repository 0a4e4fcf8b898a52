import type { Readable } from "node:stream";

/**
 * Content-addressed file storage: a blob is named by the sha256 of its bytes, stored once, and never
 * half-written. Implementations: the local disk (default) and an S3-compatible bucket (s3-blob-store.ts).
 *
 * Writing is two steps, so the database decides what is kept: `stage` hashes the bytes into a temporary file,
 * `place` gives it its name. The store itself never decides that a blob is unused: callers place and remove
 * under the blob locks of storage/blob-locks.ts, which order file and row changes.
 */
export interface BlobStore {
  /**
   * Streams `content` into a temporary file while hashing it, whether or not the blob is stored already (the
   * bytes are the proof that the caller holds them). Throws a `BlobRejected` when its sha256 is not `sha256`
   * or it is longer than `maxBytes`, keeping nothing.
   */
  stage(sha256: string, content: Readable, maxBytes: number): Promise<StagedBlob>;
  /** Gives staged blobs their names (durably), or drops a copy when its blob is there already. */
  place(blobs: readonly StagedBlob[]): Promise<void>;
  /** Drops a staged blob that is not placed (a no-op once placed). */
  discard(blob: StagedBlob): Promise<void>;
  /** Removes a stored blob; a no-op when it is not there. */
  remove(sha256: string): Promise<void>;
  /** The blob's bytes as a stream, or null when it is not stored. */
  open(sha256: string): Promise<Readable | null>;
  /**
   * Removes the temporary files of uploads that cannot finish: those of processes that are gone (and of this
   * process, left by an earlier one with its pid), and any untouched for `maxIdleMs`. Never one in progress
   * here. Answers how many were removed.
   */
  removeDeadUploads(maxIdleMs?: number): Promise<number>;
  /** Present when clients can send and fetch bytes straight to and from the store (presigned URLs). */
  readonly direct?: DirectTransfers | undefined;
}

/**
 * Transfers that bypass the server: a client PUTs a file to a presigned URL of a temporary object owned by
 * one user, and the server verifies the sha256 (`stageUploaded`) before the blob is placed like any upload; a
 * stored blob is fetched from a presigned GET URL. Nothing a client sends directly is trusted before that.
 */
export interface DirectTransfers {
  /** Smaller files go through the server: a direct transfer costs more round trips than it saves. */
  readonly minBytes: number;
  /** A URL for `owner` (a user id) to PUT one file of `size` bytes to, with the headers it must send. */
  uploadUrl(sha256: string, size: number, owner: string): Promise<DirectUploadTicket>;
  /**
   * Verifies what `owner` uploaded for `upload`: its sha256 must be `sha256` (read back through a hash, or the
   * store's own verified checksum), at most `maxBytes`. Answers it staged; throws a `BlobRejected` otherwise,
   * keeping nothing (but for `not_uploaded`: nothing is there).
   */
  stageUploaded(sha256: string, upload: string, owner: string, maxBytes: number): Promise<StagedBlob>;
  /** A URL to GET a stored blob's bytes from. */
  downloadUrl(sha256: string): Promise<{ url: string; expiresAt: Date }>;
}

export interface DirectUploadTicket {
  url: string;
  headers: Record<string, string>;
  /** Names the temporary object; the client sends it back when the PUT is done. */
  upload: string;
  expiresAt: Date;
}

export interface StagedBlob {
  readonly sha256: string;
  readonly size: number;
  /** Where the store keeps the bytes until `place` or `discard`; the store's own business. */
  readonly staging: string;
}

export class BlobRejected extends Error {
  constructor(
    readonly reason: "digest_mismatch" | "too_large" | "not_uploaded",
    message: string,
  ) {
    super(message);
  }
}
