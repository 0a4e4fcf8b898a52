import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { type BlobStore, createLocalBlobStore, importS3BlobStore } from "@pedigree/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "../fixtures/s3rver";

/**
 * One behaviour, every store: the same tests run against the local directory and an S3 bucket (s3rver on
 * 127.0.0.1). Each store also says what it holds besides placed blobs (its temporary uploads), so a test can
 * check that a refused or dropped upload leaves nothing behind.
 */
interface StoreUnderTest {
  store: BlobStore;
  /** Names of the temporary uploads the store holds. */
  temporaries(): Promise<string[]>;
  /** Leaves a temporary upload as a process of another host would (whose liveness cannot be told). */
  plantForeignUpload(): Promise<void>;
  close(): Promise<void>;
}

const PART = 5 * 1024 * 1024;

const stores: Record<string, () => Promise<StoreUnderTest>> = {
  local: async () => {
    const root = await mkdtemp(join(tmpdir(), "pedigree-store-"));
    const tmp = join(root, "tmp");
    return {
      store: createLocalBlobStore(root),
      temporaries: () => readdir(tmp).catch(() => []),
      async plantForeignUpload() {
        await mkdir(tmp, { recursive: true });
        await writeFile(join(tmp, "4242.0000.otherhost"), "half");
        const aSecondAgo = new Date(Date.now() - 1000);
        await utimes(join(tmp, "4242.0000.otherhost"), aSecondAgo, aSecondAgo);
      },
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
  s3: async () => {
    const s3: TestS3 = await startTestS3("contract-bucket");
    const { createS3BlobStore, createS3Client } = await importS3BlobStore();
    Object.assign(process.env, s3.env);
    const client = createS3Client({ endpoint: s3.endpoint });
    const prefix = "team/blobs-under-test";
    const store = createS3BlobStore({ client, bucket: s3.bucket, prefix, partBytes: PART, directMinBytes: 1 });
    const tmpPrefix = `${prefix}/tmp/`;
    return {
      store,
      async temporaries() {
        const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: tmpPrefix }));
        return (page.Contents ?? []).map((object) => (object.Key as string).slice(tmpPrefix.length));
      },
      async plantForeignUpload() {
        await client.send(
          new PutObjectCommand({ Bucket: s3.bucket, Key: `${tmpPrefix}4242.0000.otherhost`, Body: "half" }),
        );
      },
      async close() {
        client.destroy();
        await s3.close();
      },
    };
  },
};

const sha256Of = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const streamOf = (bytes: Buffer, chunk = 64 * 1024) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
    })(),
  );
async function read(content: Readable | null): Promise<Buffer | null> {
  if (!content) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
const bytesOf = (size: number, seed: number) => {
  const bytes = Buffer.alloc(Math.ceil(size / 4) * 4);
  for (let at = 0; at < bytes.length; at += 4) bytes.writeUInt32LE((at * 2654435761 + seed) >>> 0, at);
  return bytes.subarray(0, size);
};

describe.each(Object.keys(stores))("blob store contract: %s", (kind) => {
  let under: StoreUnderTest;
  let store: BlobStore;
  beforeAll(async () => {
    under = await (stores[kind] as () => Promise<StoreUnderTest>)();
    store = under.store;
  });
  afterAll(() => under.close());

  it("stages, places and opens a blob byte for byte, larger than one multipart part", async () => {
    const bytes = bytesOf(PART * 2 + 12_345, 1);
    const sha256 = sha256Of(bytes);
    const staged = await store.stage(sha256, streamOf(bytes), bytes.length);
    expect(staged).toMatchObject({ sha256, size: bytes.length });
    expect(await store.open(sha256)).toBeNull();
    await store.place([staged]);
    expect((await read(await store.open(sha256)))?.equals(bytes)).toBe(true);
    expect(await under.temporaries()).toEqual([]);
  });

  it("refuses bytes whose sha256 is not the one named, keeping nothing", async () => {
    const bytes = bytesOf(100_000, 2);
    const named = sha256Of(bytesOf(100_000, 3));
    await expect(store.stage(named, streamOf(bytes), 1e9)).rejects.toMatchObject({ reason: "digest_mismatch" });
    expect(await store.open(named)).toBeNull();
    expect(await store.open(sha256Of(bytes))).toBeNull();
    expect(await under.temporaries()).toEqual([]);
  });

  it("refuses a blob longer than its limit, keeping nothing", async () => {
    const bytes = bytesOf(PART + 1000, 4);
    await expect(store.stage(sha256Of(bytes), streamOf(bytes), PART)).rejects.toMatchObject({
      reason: "too_large",
    });
    expect(await under.temporaries()).toEqual([]);
  });

  it("placing a blob that is stored already keeps the stored bytes and drops the copy", async () => {
    const bytes = bytesOf(3000, 5);
    const sha256 = sha256Of(bytes);
    await store.place([await store.stage(sha256, streamOf(bytes), 1e9)]);
    const again = await store.stage(sha256, streamOf(bytes), 1e9);
    await store.place([again, await store.stage(sha256, streamOf(bytes), 1e9)]);
    await store.discard(again); // a no-op once placed
    expect((await read(await store.open(sha256)))?.equals(bytes)).toBe(true);
    expect(await under.temporaries()).toEqual([]);
  });

  it("discards a staged blob without placing it", async () => {
    const bytes = bytesOf(2000, 6);
    const staged = await store.stage(sha256Of(bytes), streamOf(bytes), 1e9);
    expect(await under.temporaries()).toHaveLength(1);
    await store.discard(staged);
    expect(await under.temporaries()).toEqual([]);
    expect(await store.open(staged.sha256)).toBeNull();
  });

  it("removes a stored blob; removing one that is not there is a no-op", async () => {
    const bytes = bytesOf(1000, 7);
    const sha256 = sha256Of(bytes);
    await store.place([await store.stage(sha256, streamOf(bytes), 1e9)]);
    await store.remove(sha256);
    expect(await store.open(sha256)).toBeNull();
    await store.remove(sha256);
    await store.remove(sha256Of(bytesOf(10, 8)));
  });

  it("sweeps dead uploads but never one of this process still waiting to be placed", async () => {
    const bytes = bytesOf(1000, 9);
    const waiting = await store.stage(sha256Of(bytes), streamOf(bytes), 1e9);
    await under.plantForeignUpload();
    // Idle for 0 ms: everything not in progress here is dead.
    expect(await store.removeDeadUploads(0)).toBe(1);
    expect(await under.temporaries()).toHaveLength(1);
    // An upload of another host stays while it may still be written.
    await under.plantForeignUpload();
    expect(await store.removeDeadUploads(60 * 60_000)).toBe(0);
    expect(await store.removeDeadUploads(0)).toBe(1);
    await store.place([waiting]);
    expect((await read(await store.open(waiting.sha256)))?.equals(bytes)).toBe(true);
    expect(await under.temporaries()).toEqual([]);
  });

  it.runIf(kind === "s3")("direct: verifies a file PUT to a presigned URL before it can be placed", async () => {
    const direct = store.direct;
    if (!direct) throw new Error("the S3 store offers direct transfers");
    const bytes = bytesOf(PART + 7, 10);
    const sha256 = sha256Of(bytes);
    const ticket = await direct.uploadUrl(sha256, bytes.length, "u_alice");
    expect(ticket.headers["x-amz-checksum-sha256"]).toBe(Buffer.from(sha256, "hex").toString("base64"));
    const put = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: bytes });
    expect(put.status).toBe(200);
    // Another user naming the same upload finds nothing: uploads belong to who asked for the URL.
    await expect(direct.stageUploaded(sha256, ticket.upload, "u_mallory", 1e9)).rejects.toMatchObject({
      reason: "not_uploaded",
    });
    expect(await store.open(sha256)).toBeNull();
    const staged = await direct.stageUploaded(sha256, ticket.upload, "u_alice", 1e9);
    expect(staged).toMatchObject({ sha256, size: bytes.length });
    await store.place([staged]);
    const { url } = await direct.downloadUrl(sha256);
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(bytes)).toBe(true);
    expect(await under.temporaries()).toEqual([]);
  });

  it.runIf(kind === "s3")("direct: bytes of another sha256 are refused and removed, never placed", async () => {
    const direct = store.direct;
    if (!direct) throw new Error("the S3 store offers direct transfers");
    const claimed = sha256Of(bytesOf(4000, 11));
    const ticket = await direct.uploadUrl(claimed, 4000, "u_alice");
    // s3rver does not check the signed checksum (AWS S3 would refuse this PUT): the server's read-back must.
    const put = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: bytesOf(4000, 12) });
    expect(put.status).toBe(200);
    await expect(direct.stageUploaded(claimed, ticket.upload, "u_alice", 1e9)).rejects.toMatchObject({
      reason: "digest_mismatch",
    });
    expect(await under.temporaries()).toEqual([]);
    expect(await store.open(claimed)).toBeNull();
    await expect(direct.stageUploaded(claimed, ticket.upload, "u_alice", 1e9)).rejects.toMatchObject({
      reason: "not_uploaded",
    });
  });

  it.runIf(kind === "s3")("direct: a file over the limit is refused and removed", async () => {
    const direct = store.direct;
    if (!direct) throw new Error("the S3 store offers direct transfers");
    const bytes = bytesOf(5000, 13);
    const ticket = await direct.uploadUrl(sha256Of(bytes), bytes.length, "u_alice");
    await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: bytes });
    await expect(direct.stageUploaded(sha256Of(bytes), ticket.upload, "u_alice", 4999)).rejects.toMatchObject({
      reason: "too_large",
    });
    expect(await under.temporaries()).toEqual([]);
  });

  it.runIf(kind === "local")("local: offers no direct transfers", () => {
    expect(store.direct).toBeUndefined();
  });
});
