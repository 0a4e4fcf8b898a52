import type { Readable } from "node:stream";

/**
 * Content-addressed file storage: a blob is named by the sha256 of its bytes, stored once, and never
 * half-written. Implementations: the local disk (default); an S3-compatible bucket can follow.
 */
export interface BlobStore {
  has(sha256: string): Promise<boolean>;
  /**
   * Streams `content` in while hashing it; keeps it only when its sha256 equals `sha256` and it is at most
   * `maxBytes` long, and throws a `BlobRejected` otherwise.
   */
  put(sha256: string, content: Readable, maxBytes: number): Promise<{ size: number; created: boolean }>;
  /** The blob's bytes as a stream, or null when it is not stored. */
  open(sha256: string): Promise<Readable | null>;
  /**
   * Removes what uploads cut short by a killed process left behind, untouched since `before` (a live upload
   * keeps touching its file). Answers how many were removed.
   */
  removeStaleUploads(before: Date): Promise<number>;
}

export class BlobRejected extends Error {
  constructor(
    readonly reason: "digest_mismatch" | "too_large",
    message: string,
  ) {
    super(message);
  }
}
