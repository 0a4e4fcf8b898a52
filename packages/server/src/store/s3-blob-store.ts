import { createHash, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { BlobRejected, type BlobStore, type DirectTransfers, type StagedBlob } from "./blob-store";

/**
 * A temporary object older than this is dead even when its process seems alive (its pid taken by another) or is
 * of another host. Longer than on the local disk: an object's LastModified is when its upload began (a multipart
 * upload's too), not when it was last written, so it must outlast the longest upload (50 GiB at 1 MB/s: 14 h).
 */
const DEFAULT_MAX_IDLE_MS = 24 * 60 * 60_000;
/** How long a presigned URL works: long enough for a large file on a slow link, short of the idle sweep. */
const PRESIGNED_TTL_SECONDS = 50 * 60;
/** The largest object one CopyObject may copy (S3's limit); larger ones are copied in parts. */
const SINGLE_COPY_LIMIT = 5 * 1024 ** 3;
const thisHost = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix of everything this store writes, without leading or trailing slash; may be empty. */
  prefix: string;
  /** Size of a part of a multipart upload (memory held per upload is about twice this). Default 8 MiB. */
  partBytes?: number;
  /** Objects larger than this are copied with UploadPartCopy; default (and S3's limit) 5 GiB. */
  singleCopyLimit?: number;
  /** Clients transfer files of at least this size straight to the bucket; Infinity turns that off. */
  directMinBytes?: number;
  /**
   * Accept a direct upload on the sha256 checksum the store reports (it verified it on PUT, as AWS S3 does for
   * a signed `x-amz-checksum-sha256`) instead of reading the object back through a hash. Off by default:
   * a store that stores the header without checking it (s3rver does not even store it) would be trusted blindly.
   */
  trustStoreChecksums?: boolean;
}

/** Where a `s3://bucket/prefix` store is and how to reach it, from the environment. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) throw new Error(`PEDIGREE_BLOB_STORE: '${url}' is not s3://bucket or s3://bucket/prefix`);
  return { bucket: match[1] as string, prefix: (match[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

/**
 * A client for the standard AWS variables (AWS_REGION, AWS_ACCESS_KEY_ID, profiles, …). With an endpoint
 * (MinIO, R2, s3rver, GCS's XML API) requests are path-style. Checksums are computed only where an operation
 * needs them: stores other than AWS do not all speak the aws-chunked encoding the SDK uses for them otherwise.
 */
export function createS3Client(options: { endpoint?: string | undefined; region?: string | undefined }): S3Client {
  return new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Temporary objects of this process being written or waiting to be placed: never removed as dead. */
const uploadsInProgress = new Set<string>();

/**
 * Blobs at `<prefix>/blobs/<sha256>` in an S3-compatible bucket. An upload streams through a hash into a
 * temporary object `<prefix>/tmp/<pid>.<uuid>.<host>` (a multipart upload: a few parts in memory, never the
 * file); placing copies it to its content-addressed key and deletes the temporary one (S3 has no rename).
 * A direct upload goes to `<prefix>/tmp/direct.<user>.<uuid>` through a presigned URL, and is placed like any
 * other only after `stageUploaded` verified its sha256.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { client, bucket } = options;
  const base = options.prefix ? `${options.prefix}/` : "";
  const blobKey = (sha256: string) => `${base}blobs/${sha256}`;
  const tmpPrefix = `${base}tmp/`;
  const partBytes = options.partBytes ?? 8 * 1024 ** 2;
  const singleCopyLimit = options.singleCopyLimit ?? SINGLE_COPY_LIMIT;

  const exists = async (key: string) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  };
  const deleteKey = (key: string) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  const release = async (staging: string) => {
    await deleteKey(staging);
    uploadsInProgress.delete(staging);
  };

  /** Copies `from` to `to` within the bucket, in parts when it is too large for one CopyObject. */
  async function copy(from: string, to: string, size: number) {
    const source = `${bucket}/${encodeURIComponent(from).replace(/%2F/g, "/")}`;
    if (size <= singleCopyLimit) {
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: source }));
      return;
    }
    const part = Math.max(Math.ceil(size / 10_000), Math.min(singleCopyLimit, 1024 ** 3));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
    try {
      const parts = [];
      for (let start = 0, number = 1; start < size; start += part, number++) {
        const end = Math.min(size, start + part) - 1;
        const { CopyPartResult } = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: to,
            UploadId,
            PartNumber: number,
            CopySource: source,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: number, ETag: CopyPartResult?.ETag });
      }
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId })).catch(() => {});
      throw error;
    }
  }

  /** Reads the object at `key` back through a hash; answers its size, or throws a BlobRejected. */
  async function verifyObject(key: string, sha256: string, maxBytes: number): Promise<number> {
    const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!Body) throw new Error(`${key}: the store answered no body`);
    const hash = createHash("sha256");
    let size = 0;
    await pipeline(Body as Readable, async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > maxBytes) throw new BlobRejected("too_large", `blob is larger than ${maxBytes} bytes`);
        hash.update(chunk);
      }
      yield* [];
    });
    const actual = hash.digest("hex");
    if (actual !== sha256) throw new BlobRejected("digest_mismatch", `content has sha256 ${actual}, not ${sha256}`);
    return size;
  }

  const directKey = (owner: string, upload: string) => `${tmpPrefix}direct.${owner}.${upload}`;

  const direct: DirectTransfers = {
    minBytes: options.directMinBytes ?? 8 * 1024 ** 2,

    async uploadUrl(sha256, size, owner) {
      const upload = randomUUID();
      const checksum = Buffer.from(sha256, "hex").toString("base64");
      const command = new PutObjectCommand({
        Bucket: bucket,
        Key: directKey(owner, upload),
        ContentLength: size,
        ChecksumSHA256: checksum,
      });
      // Both headers are signed and must be sent as they are: a store that checks signatures (AWS S3, MinIO, R2)
      // refuses another length, and AWS S3 refuses bytes whose sha256 is not the signed one.
      const url = await getSignedUrl(client, command, {
        expiresIn: PRESIGNED_TTL_SECONDS,
        signableHeaders: new Set(["content-length", "x-amz-checksum-sha256"]),
        unhoistableHeaders: new Set(["x-amz-checksum-sha256"]),
      });
      return {
        url,
        headers: { "content-length": String(size), "x-amz-checksum-sha256": checksum },
        upload,
        expiresAt: new Date(Date.now() + PRESIGNED_TTL_SECONDS * 1000),
      };
    },

    async stageUploaded(sha256, upload, owner, maxBytes) {
      const staging = directKey(owner, upload);
      uploadsInProgress.add(staging);
      try {
        const head = await client
          .send(new HeadObjectCommand({ Bucket: bucket, Key: staging, ChecksumMode: "ENABLED" }))
          .catch((error: unknown) => {
            if (isNotFound(error)) throw new BlobRejected("not_uploaded", `nothing was uploaded for ${upload}`);
            throw error;
          });
        const declared = head.ContentLength ?? 0;
        if (declared > maxBytes) throw new BlobRejected("too_large", `blob is larger than ${maxBytes} bytes`);
        const checksum = Buffer.from(sha256, "hex").toString("base64");
        const storeVerified =
          options.trustStoreChecksums === true &&
          head.ChecksumSHA256 === checksum &&
          (head.ChecksumType === undefined || head.ChecksumType === "FULL_OBJECT");
        const size = storeVerified ? declared : await verifyObject(staging, sha256, maxBytes);
        return { sha256, size, staging };
      } catch (error) {
        if (!(error instanceof BlobRejected && error.reason === "not_uploaded")) await release(staging);
        uploadsInProgress.delete(staging);
        throw error;
      }
    },

    async downloadUrl(sha256) {
      const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: blobKey(sha256) }), {
        expiresIn: PRESIGNED_TTL_SECONDS,
      });
      return { url, expiresAt: new Date(Date.now() + PRESIGNED_TTL_SECONDS * 1000) };
    },
  };

  return {
    async stage(sha256, content, maxBytes) {
      const staging = `${tmpPrefix}${process.pid}.${randomUUID()}.${thisHost}`;
      uploadsInProgress.add(staging);
      const hash = createHash("sha256");
      let size = 0;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > maxBytes) return done(new BlobRejected("too_large", `blob is larger than ${maxBytes} bytes`));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: staging, Body: measure },
        partSize: partBytes,
        queueSize: 2,
        leavePartsOnError: false,
      });
      try {
        // The hash sees every byte before the upload does. A failed read (too large, cut) aborts the upload and
        // is the error told; a failed upload fails the read.
        const [read, sent] = await Promise.allSettled([
          pipeline(content, measure).catch(async (error: unknown) => {
            await upload.abort().catch(() => {});
            throw error;
          }),
          upload.done().catch((error: unknown) => {
            measure.destroy(error as Error);
            throw error;
          }),
        ]);
        if (read.status === "rejected") throw read.reason;
        if (sent.status === "rejected") throw sent.reason;
        const actual = hash.digest("hex");
        if (actual !== sha256) throw new BlobRejected("digest_mismatch", `content has sha256 ${actual}, not ${sha256}`);
        return { sha256, size, staging };
      } catch (error) {
        await release(staging).catch(() => {});
        throw error;
      }
    },

    async place(blobs) {
      for (const { sha256, size, staging } of blobs) {
        if (!(await exists(blobKey(sha256)))) await copy(staging, blobKey(sha256), size);
        await release(staging);
      }
    },

    discard: ({ staging }: StagedBlob) => release(staging),

    async remove(sha256) {
      await deleteKey(blobKey(sha256));
    },

    async open(sha256): Promise<Readable | null> {
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: blobKey(sha256) }));
        return (Body as Readable | undefined) ?? null;
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },

    async removeDeadUploads(maxIdleMs = DEFAULT_MAX_IDLE_MS) {
      const idleBefore = Date.now() - maxIdleMs;
      let removed = 0;
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: tmpPrefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          const key = object.Key;
          if (!key || uploadsInProgress.has(key)) continue;
          const [pid, , host] = key.slice(tmpPrefix.length).split(".");
          const owner = Number(pid);
          const ours = host === thisHost && Number.isInteger(owner) && owner > 0;
          const dead =
            (ours && (owner === process.pid || !isAlive(owner))) ||
            (object.LastModified !== undefined && object.LastModified.getTime() < idleBefore);
          if (dead && !uploadsInProgress.has(key)) {
            await deleteKey(key);
            removed++;
          }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      await abortDeadMultipartUploads(idleBefore);
      return removed;
    },

    direct: Number.isFinite(direct.minBytes) ? direct : undefined,
  };

  /** Parts of multipart uploads a killed process left behind (the store bills them until they are aborted). */
  async function abortDeadMultipartUploads(idleBefore: number) {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page: Awaited<ReturnType<typeof listUploads>>;
      try {
        page = await listUploads(keyMarker, uploadIdMarker);
      } catch (error) {
        if (isNotImplemented(error)) return; // s3rver keeps no list of uploads
        throw error;
      }
      for (const { Key, UploadId, Initiated } of page.Uploads ?? []) {
        if (!Key || uploadsInProgress.has(Key) || !Initiated || Initiated.getTime() >= idleBefore) continue;
        // Begun long ago is not dead: a large upload of another server may still be sending parts.
        if ((await lastPartAt(Key, UploadId)) >= idleBefore) continue;
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId })).catch(() => {});
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  /** When the newest part of a multipart upload was written (0: none). */
  async function lastPartAt(Key: string, UploadId: string | undefined): Promise<number> {
    let newest = 0;
    let marker: string | undefined;
    do {
      const page = await client.send(new ListPartsCommand({ Bucket: bucket, Key, UploadId, PartNumberMarker: marker }));
      for (const part of page.Parts ?? []) newest = Math.max(newest, part.LastModified?.getTime() ?? 0);
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return newest;
  }

  function listUploads(keyMarker: string | undefined, uploadIdMarker: string | undefined) {
    return client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: tmpPrefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
  }
}

function isNotFound(error: unknown): boolean {
  const named = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return named.name === "NotFound" || named.name === "NoSuchKey" || named.$metadata?.httpStatusCode === 404;
}

function isNotImplemented(error: unknown): boolean {
  const named = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return named.name === "NotImplemented" || named.$metadata?.httpStatusCode === 501;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
