import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  API_PREFIX,
  BlobUploadResponse,
  DirectDownload,
  type DirectUpload,
  ErrorBody,
  isSafeRelativePath,
  routes,
  routeUrl,
  type StoredEntry,
} from "@pedigree/protocol";
import type { HttpClient } from "./client";
import { errorFor, PedigreeError, ValidationError } from "./errors";
import type { VersionFiles } from "./version-files";

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

/**
 * Uploads the blobs a version is missing, a few at a time: those of `directUploads` straight to the blob store
 * (presigned URLs; the server then verifies them), the others through the server.
 */
export async function uploadBlobs(
  client: HttpClient,
  blobs: readonly { sha256: string; localPath: string; path: string }[],
  onProgress?: ProgressCallback,
  directUploads: readonly DirectUpload[] = [],
): Promise<void> {
  const direct = new Map(directUploads.map((ticket) => [ticket.sha256, ticket]));
  await forEachAtMost(TRANSFER_CONCURRENCY, blobs, (blob) =>
    uploadBlob(client, blob.sha256, blob.localPath, { path: blob.path, onProgress, direct: direct.get(blob.sha256) }),
  );
}

/**
 * Streams a local file to the blob store. A stream cannot be replayed, so the retries are here (the file is
 * opened again for each attempt) rather than in the HTTP client. With a `direct` ticket the bytes go to the
 * store's presigned URL and the server is asked to verify them; when the store refuses them (an expired URL,
 * a refused checksum) or cannot be reached, they go through the server after all.
 */
export async function uploadBlob(
  client: HttpClient,
  sha256: string,
  localPath: string,
  options: { path: string; onProgress?: ProgressCallback | undefined; direct?: DirectUpload | undefined },
): Promise<void> {
  const { size } = await stat(localPath);
  const progress = (bytes: number) =>
    options.onProgress?.({ phase: "upload", path: options.path, bytes, totalBytes: size });
  if (options.direct && (await uploadDirect(client, options.direct, localPath, size, progress))) return;
  const path = routeUrl(routes.uploadBlob, { params: { sha256 } });
  const target: PutTarget = {
    url: new URL(`${client.settings.baseUrl}${API_PREFIX}${path}`),
    what: path,
    headers: client.settings.apiKey ? { authorization: `Bearer ${client.settings.apiKey}` } : {},
  };
  for (let attempt = 0; ; attempt++) {
    try {
      BlobUploadResponse.parse(await putFile(target, localPath, size, client.settings.timeoutMs, progress));
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
 * PUTs the file to its presigned URL (retrying what the store answers 5xx or not at all), then has the server
 * verify and record it. Answers false when the store would not take it: the caller uploads through the server.
 * The server's refusal of what was uploaded (a wrong sha256: the file changed) is thrown.
 */
async function uploadDirect(
  client: HttpClient,
  ticket: DirectUpload,
  localPath: string,
  size: number,
  onSent: (bytes: number) => void,
): Promise<boolean> {
  const url = new URL(ticket.url);
  const target: PutTarget = { url, headers: ticket.headers, what: `${url.origin}${url.pathname}` };
  for (let attempt = 0; ; attempt++) {
    try {
      await putFile(target, localPath, size, client.settings.timeoutMs, onSent);
      break;
    } catch (error) {
      const failure = error instanceof PedigreeError ? error : networkError("PUT", target.what, error);
      const retried = failure.code === "NETWORK" || (failure.status !== undefined && failure.status >= 500);
      if (!retried || attempt >= client.settings.retries) return false;
      await sleep(Math.min(5_000, 300 * 2 ** attempt));
    }
  }
  await client.call("completeDirectUpload", { params: { sha256: ticket.sha256 }, body: { upload: ticket.upload } });
  return true;
}

interface PutTarget {
  url: URL;
  /** Sent as they are, besides content-type and content-length (a presigned URL signs some of them). */
  headers: Record<string, string>;
  /** How errors name the request. */
  what: string;
}

/**
 * One PUT of a file's bytes, written to the socket chunk by chunk: a chunk is read from the file only once the
 * socket took the one before (never more than one chunk in memory), and `onSent` counts what the socket took.
 * Not through ky: ky tees every request body to replay it, and the unread branch would hold the whole file.
 */
function putFile(
  target: PutTarget,
  localPath: string,
  size: number,
  timeoutMs: number,
  onSent: (bytes: number) => void,
): Promise<unknown> {
  const { url, what: path } = target;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const file = createReadStream(localPath, { highWaterMark: UPLOAD_CHUNK_BYTES });
    const request = send(url, {
      method: "PUT",
      headers: {
        "content-type": "application/octet-stream",
        ...target.headers,
        "content-length": String(size),
      },
    });
    const fail = (error: unknown) => {
      file.destroy();
      request.destroy();
      reject(error);
    };
    // An idle socket (nothing taken, nothing answered) for a whole timeout is a dead server.
    request.setTimeout(timeoutMs, () => fail(new PedigreeError("NETWORK", `PUT ${path} timed out`, undefined)));
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
            : errorFor("INTERNAL", `PUT ${path}: answered ${status} ${text.slice(0, 300)}`.trim(), status),
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
      request.setTimeout(timeoutMs + Math.ceil(size / 2 ** 20) * 100);
      request.end();
    });
  });
}

const UPLOAD_CHUNK_BYTES = 1024 * 1024;

function networkError(method: string, path: string, error: unknown): PedigreeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new PedigreeError("NETWORK", `${method} ${path} failed: ${reason}`, undefined);
}

/** Asks for one file; a large file on a store with presigned URLs is answered with where to fetch it. */
function openFile(client: HttpClient, files: VersionFiles, path: string): Promise<Response> {
  const query = { path, direct: "true" as const };
  return files.route === "downloadFile"
    ? client.open("downloadFile", { params: files.params, query }, { timeout: false })
    : client.open("downloadCollectionVersionFile", { params: files.params, query }, { timeout: false });
}

/** Downloads one stored file to `target`, verifying its sha256 before it takes its final name. */
export async function downloadFile(
  client: HttpClient,
  files: VersionFiles,
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
  await mkdir(dirname(target), { recursive: true });
  await mkdir(dirname(target), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await downloadOnce(client, files, entry, target, onProgress);
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
  files: VersionFiles,
  entry: StoredEntry,
  target: string,
  onProgress: ProgressCallback | undefined,
): Promise<void> {
  // A large file on a store with presigned URLs is answered with where to fetch it; anything else with its bytes.
  const answer = await openFile(client, files, entry.path);
  const response = answer.headers.get("content-type")?.startsWith("application/json")
    ? await fetchDirect(client, DirectDownload.parse(await answer.json()), entry)
    : answer;
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

/**
 * GETs a file from its presigned URL, with no credentials of Pedigree's. An answer that is not the file (an
 * expired URL, a store that failed) or none at all is a cut download: the next attempt asks the server again.
 */
async function fetchDirect(client: HttpClient, direct: DirectDownload, entry: StoredEntry): Promise<Response> {
  const where = new URL(direct.url);
  const what = `${entry.path} from ${where.origin}${where.pathname}`;
  const headersDue = new AbortController();
  const timer = setTimeout(() => headersDue.abort(), client.settings.timeoutMs).unref();
  try {
    const response = await fetch(direct.url, { signal: headersDue.signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new DownloadCut("NETWORK", `${what}: the store answered ${response.status}`, undefined);
    }
    return response;
  } catch (error) {
    if (error instanceof DownloadCut) throw error;
    throw new DownloadCut("NETWORK", `${what}: ${error instanceof Error ? error.message : error}`, undefined);
  } finally {
    // Headers are in: from here on the idle watch of the body takes over.
    clearTimeout(timer);
  }
}

/** The body of a download ended or stalled before its last byte. */
class DownloadCut extends PedigreeError {}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
