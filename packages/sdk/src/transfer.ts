import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobUploadResponse, isSafeRelativePath, type StoredEntry } from "@pedigree/protocol";
import type { HttpClient } from "./client";
import { PedigreeError, ValidationError } from "./errors";

export interface TransferProgress {
  phase: "upload" | "download";
  path: string;
  bytes: number;
  totalBytes: number;
}
export type ProgressCallback = (progress: TransferProgress) => void;

/**
 * Streams a local file to the blob store. A stream cannot be replayed, so the retries are here (a new stream
 * per attempt) rather than in the HTTP client.
 */
export async function uploadBlob(
  client: HttpClient,
  sha256: string,
  localPath: string,
  options: { path: string; onProgress?: ProgressCallback | undefined },
): Promise<void> {
  const { size } = await stat(localPath);
  for (let attempt = 0; ; attempt++) {
    try {
      const body = Readable.toWeb(
        createReadStream(localPath).pipe(progressCounter(options.path, size, "upload", options.onProgress)),
      );
      const response = await client.ky.put(`blobs/${sha256}`, {
        body: body as ReadableStream,
        retry: 0,
        timeout: false,
        headers: { "content-type": "application/octet-stream", "content-length": String(size) },
      });
      BlobUploadResponse.parse(await response.json());
      return;
    } catch (error) {
      const failure = await client.failureOf(error, "PUT", `blobs/${sha256}`);
      const delay = client.retryDelayMs(failure, attempt);
      if (delay === undefined) throw failure;
      await sleep(delay);
    }
  }
}

/** Downloads one stored file to `target`, verifying its sha256 before it takes its final name. */
export async function downloadFile(
  client: HttpClient,
  filesPath: string,
  entry: StoredEntry,
  target: string,
  onProgress?: ProgressCallback,
): Promise<void> {
  if (!isSafeRelativePath(entry.path)) {
    throw new ValidationError(
      "BAD_REQUEST",
      `refusing to write outside the target directory: '${entry.path}'`,
      undefined,
      "path",
    );
  }
  const response = await client.send("GET", filesPath, {
    searchParams: { path: entry.path },
    timeout: false,
  });
  if (!response.body) throw new PedigreeError("INTERNAL", `empty body for ${entry.path}`, response.status);
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  const hash = createHash("sha256");
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body as never),
      progressCounter(entry.path, entry.size, "download", onProgress),
      hashing,
      createWriteStream(partial),
    );
    const actual = hash.digest("hex");
    if (actual !== entry.sha256) {
      throw new PedigreeError(
        "INTERNAL",
        `${entry.path}: downloaded sha256 ${actual}, expected ${entry.sha256}`,
        undefined,
        "path",
      );
    }
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}

function progressCounter(
  path: string,
  totalBytes: number,
  phase: TransferProgress["phase"],
  onProgress?: ProgressCallback,
) {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      onProgress?.({ phase, path, bytes, totalBytes });
      done(null, chunk);
    },
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
