import type { Readable } from "node:stream";

/**
 * Content-addressed file storage: a blob is named by the sha256 of its bytes, stored once, and never
 * half-written. Implementations: the local disk (default); an S3-compatible bucket can follow.
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
}

export interface StagedBlob {
  readonly sha256: string;
  readonly size: number;
  /** Where the store keeps the bytes until `place` or `discard`; the store's own business. */
  readonly staging: string;
}

export class BlobRejected extends Error {
  constructor(
    readonly reason: "digest_mismatch" | "too_large",
    message: string,
  ) {
    super(message);
  }
}
