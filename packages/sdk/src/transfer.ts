import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobUploadResponse, ErrorBody, isSafeRelativePath, type StoredEntry } from "@pedigree/protocol";
import type { HttpClient } from "./client";
import { errorFor, PedigreeError, ValidationError } from "./errors";

export interface TransferProgress {
  phase: "upload" | "download";
  /** The file's path in the artifact. */
  path: string;
  /**
   * Upload: bytes the socket took (the operating system may still hold a few MB of them on their way); download:
   * bytes received and hashed. Starts again from 0 when an attempt is retried.
   */
  bytes: number;
  totalBytes: number;
}
export type ProgressCallback = (progress: TransferProgress) => void;

/** Files sent or fetched at once: many small files are bound by round trips, a few large ones by the link. */
export const TRANSFER_CONCURRENCY = 8;

/**
 * Runs `task` over `items`, at most `limit` at a time. On the first failure no new item starts; the ones under
 * way finish, and the first failure is thrown.
 */
export async function forEachAtMost<T>(limit: number, items: readonly T[], task: (item: T) => Promise<void>) {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      await task(item).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failure) throw failure.reason;
}

/** Uploads the blobs a version is missing, a few at a time. */
export async function uploadBlobs(
  client: HttpClient,
  blobs: readonly { sha256: string; localPath: string; path: string }[],
  onProgress?: ProgressCallback,
): Promise<void> {
  await forEachAtMost(TRANSFER_CONCURRENCY, blobs, (blob) =>
    uploadBlob(client, blob.sha256, blob.localPath, { path: blob.path, onProgress }),
  );
}

/**
 * Streams a local file to the blob store. A stream cannot be replayed, so the retries are here (the file is
 * opened again for each attempt) rather than in the HTTP client.
 */
export async function uploadBlob(
  client: HttpClient,
  sha256: string,
  localPath: string,
  options: { path: string; onProgress?: ProgressCallback | undefined },
): Promise<void> {
  const { size } = await stat(localPath);
  const path = `blobs/${sha256}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await putFile(client, path, localPath, size, (bytes) =>
        options.onProgress?.({ phase: "upload", path: options.path, bytes, totalBytes: size }),
      );
      BlobUploadResponse.parse(answer);
      return;
    } catch (error) {
      const failure = await client.failureOf(error, "PUT", path);
      const delay = client.retryDelayMs(failure, attempt);
      if (delay === undefined) throw failure;
      await sleep(delay);
    }
  }
}

/**
 * One PUT of a file's bytes, written to the socket chunk by chunk: a chunk is read from the file only once the
 * socket took the one before (never more than one chunk in memory), and `onSent` counts what the socket took.
 * Not through ky: ky tees every request body to replay it, and the unread branch would hold the whole file.
 */
function putFile(
  client: HttpClient,
  path: string,
  localPath: string,
  size: number,
  onSent: (bytes: number) => void,
): Promise<unknown> {
  const url = new URL(`${client.settings.baseUrl}/api/v1/${path}`);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const file = createReadStream(localPath, { highWaterMark: UPLOAD_CHUNK_BYTES });
    const request = send(url, {
      method: "PUT",
      headers: {
        ...(client.settings.apiKey ? { authorization: `Bearer ${client.settings.apiKey}` } : {}),
        "content-type": "application/octet-stream",
        "content-length": String(size),
      },
    });
    const fail = (error: unknown) => {
      file.destroy();
      request.destroy();
      reject(error);
    };
    // An idle socket (nothing taken, nothing answered) for a whole timeout is a dead server.
    request.setTimeout(client.settings.timeoutMs, () =>
      fail(new PedigreeError("NETWORK", `PUT ${path} timed out`, undefined)),
    );
    request.on("error", (error) => fail(networkError("PUT", path, error)));
    request.on("response", (response) => {
      // The server may answer before the body's end (a refusal): stop sending.
      file.destroy();
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", (error) => fail(networkError("PUT", path, error)));
      response.on("end", () => {
        if (sent < size) request.destroy();
        const text = Buffer.concat(chunks).toString("utf8");
        const status = response.statusCode ?? 0;
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {}
        if (status >= 200 && status < 300) return resolve(body);
        const parsed = ErrorBody.safeParse(body);
        reject(
          parsed.success
            ? errorFor(parsed.data.error.code, parsed.data.error.message, status, parsed.data.error.field)
            : errorFor("INTERNAL", `PUT ${path}: the server answered ${status}`, status),
        );
      });
    });
    let sent = 0;
    file.on("error", fail);
    file.on("data", (chunk: Buffer | string) => {
      file.pause();
      request.write(chunk, (error) => {
        if (error) return;
        sent += chunk.length;
        onSent(sent);
        file.resume();
      });
    });
    file.on("end", () => {
      // The server hashes and syncs the blob to disk before it answers: allow for that after the last byte.
      request.setTimeout(client.settings.timeoutMs + Math.ceil(size / 2 ** 20) * 100);
      request.end();
    });
  });
}

const UPLOAD_CHUNK_BYTES = 1024 * 1024;

function networkError(method: string, path: string, error: unknown): PedigreeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new PedigreeError("NETWORK", `${method} ${path} failed: ${reason}`, undefined);
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
  const path = filesPath;
  await mkdir(dirname(target), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await downloadOnce(client, path, entry, target, onProgress);
      return;
    } catch (error) {
      // A body cut short is fetched again from its start (the HTTP client already retried the request itself);
      // a wrong sha256 or an answer with an error code is not.
      if (!(error instanceof DownloadCut) || attempt >= client.settings.retries) throw error;
      await sleep(Math.min(5_000, 300 * 2 ** attempt));
    }
  }
}

/**
 * Streams one file to `<target>.partial-<pid>` while hashing it, and gives it its name only when its sha256 is
 * the manifest's; whatever happens, no partial file is left. A body that stalls for a whole timeout is cut.
 */
async function downloadOnce(
  client: HttpClient,
  path: string,
  entry: StoredEntry,
  target: string,
  onProgress: ProgressCallback | undefined,
): Promise<void> {
  const response = await client.send("GET", path, { searchParams: { path: entry.path }, timeout: false });
  if (!response.body) throw new PedigreeError("INTERNAL", `empty body for ${entry.path}`, response.status);
  const partial = `${target}.partial-${process.pid}`;
  const hash = createHash("sha256");
  let bytes = 0;
  let idle: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(idle);
    const stalled = () => verify.destroy(new Error(`no byte came for ${client.settings.timeoutMs} ms`));
    idle = setTimeout(stalled, client.settings.timeoutMs).unref();
  };
  const verify = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      watch();
      hash.update(chunk);
      bytes += chunk.length;
      onProgress?.({ phase: "download", path: entry.path, bytes, totalBytes: entry.size });
      done(null, chunk);
    },
  });
  try {
    watch();
    const out = createWriteStream(partial);
    let diskFailed = false;
    out.once("error", () => (diskFailed = true));
    await pipeline(Readable.fromWeb(response.body as never), verify, out).catch((error: unknown) => {
      if (diskFailed) throw error; // the local disk (ENOSPC, EACCES, …), not the network
      throw new DownloadCut(
        "NETWORK",
        `${entry.path}: the download was cut after ${bytes} bytes (${error})`,
        undefined,
      );
    });
    const actual = hash.digest("hex");
    if (actual !== entry.sha256) {
      throw new PedigreeError(
        "INTERNAL",
        `${entry.path}: downloaded sha256 ${actual}, expected ${entry.sha256}; the file was not kept`,
        undefined,
        "path",
      );
    }
    await rename(partial, target);
  } finally {
    clearTimeout(idle);
    await rm(partial, { force: true });
  }
}

/** The body of a download ended or stalled before its last byte. */
class DownloadCut extends PedigreeError {}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
