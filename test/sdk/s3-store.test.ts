import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { Artifact, Pedigree } from "@pedigree/sdk";
import { type BlobStore, openBlobStore } from "@pedigree/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "../fixtures/s3rver";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * A server whose blobs live in an S3 bucket (s3rver on 127.0.0.1), and the SDK logging and downloading through
 * it: large files go straight between the SDK and the bucket (presigned URLs), small ones through the server.
 * The store is wrapped to count the bytes that pass through the server, so "direct" is measured, not assumed.
 */
const MiB = 2 ** 20;
let s3: TestS3;
let server: TestServer;
let work: string;
let pd: Pedigree;
/** File bytes the server streamed in (stage) and out (open) itself. */
const throughServer = { staged: 0, opened: 0 };
let expireDirectUploads = false;

function counting(store: BlobStore): BlobStore {
  const count = (key: keyof typeof throughServer) =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        throughServer[key] += chunk.length;
        done(null, chunk);
      },
    });
  const direct = store.direct;
  return {
    ...store,
    // Presigned PUTs dated 2020 when `expireDirectUploads` is set: the store refuses them as expired.
    direct: direct && {
      ...direct,
      async uploadUrl(sha256, size, owner) {
        const ticket = await direct.uploadUrl(sha256, size, owner);
        if (!expireDirectUploads) return ticket;
        const url = new URL(ticket.url);
        url.searchParams.set("X-Amz-Date", "20200101T000000Z");
        return { ...ticket, url: url.toString() };
      },
    },
    stage: (sha256, content, maxBytes) => store.stage(sha256, content.pipe(count("staged")), maxBytes),
    open: async (sha256) => (await store.open(sha256))?.pipe(count("opened")) ?? null,
  };
}

beforeAll(async () => {
  s3 = await startTestS3("pedigree-e2e");
  Object.assign(process.env, s3.env);
  work = await mkdtemp(join(tmpdir(), "pedigree-s3-e2e-"));
  server = await startTestServer({
    config: { blobStore: `s3://${s3.bucket}/team/pedigree`, s3Endpoint: s3.endpoint, directTransferMinBytes: MiB },
    blobs: async (config) => counting(await openBlobStore(config)),
  });
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "s3", pedigreeDir: join(work, "sdk") });
});
afterAll(async () => {
  await server?.close();
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

const sha256Of = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
function patterned(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at++) bytes[at] = (at * 31 + seed * 7 + (at >> 10)) & 0xff;
  return bytes;
}

describe("S3 blob store: the SDK through presigned URLs", () => {
  it("logs and downloads a large file straight from the bucket, byte for byte, and a small one through the server", async () => {
    const large = patterned(3 * MiB + 5, 1);
    const small = patterned(200 * 1024, 2); // above the inline limit, below the direct one
    await writeFile(join(work, "weights.bin"), large);
    await writeFile(join(work, "config.bin"), small);
    const before = { ...throughServer };
    const run = await pd.init({ jobType: "training" });
    const model = new Artifact({ name: "s3-model", type: "model" });
    await model.addFile(join(work, "weights.bin"));
    await model.addFile(join(work, "config.bin"));
    const logged = await run.logArtifact(model);
    await run.finish();
    expect(logged.version).toBe("v0");
    // Only the small file came through the server.
    expect(throughServer.staged - before.staged).toBe(small.length);

    const dir = await (await pd.artifact("s3-model:v0")).download(join(work, "down"));
    expect(sha256Of(await readFile(join(dir, "weights.bin")))).toBe(sha256Of(large));
    expect((await readFile(join(dir, "config.bin"))).equals(small)).toBe(true);
    expect(throughServer.opened - before.opened).toBe(small.length);
  });

  it("sends a file through the server when the store refuses its direct upload (an expired URL)", async () => {
    const large = patterned(2 * MiB, 6);
    await writeFile(join(work, "late.bin"), large);
    const before = throughServer.staged;
    expireDirectUploads = true;
    try {
      const artifact = new Artifact({ name: "late", type: "dataset" });
      await artifact.addFile(join(work, "late.bin"));
      const run = await pd.init({ jobType: "upload" });
      expect((await run.logArtifact(artifact)).version).toBe("v0");
      await run.finish();
    } finally {
      expireDirectUploads = false;
    }
    expect(throughServer.staged - before).toBe(large.length);
    const dir = await (await pd.artifact("late:v0")).download(join(work, "late-down"));
    expect((await readFile(join(dir, "late.bin"))).equals(large)).toBe(true);
  });

  it("never commits a version whose direct upload has another sha256", async () => {
    const claimed = patterned(2 * MiB, 3);
    const sha256 = sha256Of(claimed);
    const created = await server.api("POST", "/projects/s3/versions", {
      name: "forged",
      type: "dataset",
      manifest: [{ path: "data.bin", sha256, size: claimed.length }],
    });
    expect(created.status).toBe(202);
    const [ticket] = created.body.directUploads;
    expect(ticket).toMatchObject({ sha256, headers: { "content-length": String(claimed.length) } });
    // s3rver takes the bytes without checking the signed checksum (AWS S3 would refuse them): the server checks.
    const put = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: patterned(2 * MiB, 4) });
    expect(put.status).toBe(200);
    const done = await server.api("POST", `/blobs/${sha256}/direct`, { upload: ticket.upload });
    expect(done.status).toBe(400);
    expect(done.body.error).toMatchObject({ code: "BAD_REQUEST", field: "sha256" });
    const commit = await server.api("POST", `/projects/s3/versions/${created.body.version.id}/commit`, {});
    expect(commit.status).toBe(409);
    expect(commit.body.error.field).toBe("blobs");
    // Completing it again finds nothing: the refused upload was removed.
    const again = await server.api("POST", `/blobs/${sha256}/direct`, { upload: ticket.upload });
    expect(again.status).toBe(404);
    expect(again.body.error.field).toBe("upload");
  });

  it("records a direct upload once verified, for its uploader only; completing it again answers the same", async () => {
    const content = patterned(MiB + 9, 5);
    const sha256 = sha256Of(content);
    const bob = await server.api("POST", "/users", { name: "bob" });
    expect((await server.api("PUT", "/projects/s3/members/bob", { role: "member" })).status).toBe(200);
    const created = await server.api("POST", "/projects/s3/versions", {
      name: "direct-wire",
      type: "dataset",
      manifest: [{ path: "data.bin", sha256, size: content.length }],
    });
    const [ticket] = created.body.directUploads;
    const put = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: content });
    expect(put.status).toBe(200);
    // Bob knows the upload's id but did not ask for it: it is not his to complete.
    const stolen = await server.api("POST", `/blobs/${sha256}/direct`, { upload: ticket.upload }, bob.body.apiKey);
    expect(stolen.status).toBe(404);
    const done = await server.api("POST", `/blobs/${sha256}/direct`, { upload: ticket.upload });
    expect(done).toMatchObject({ status: 201, body: { sha256, size: content.length } });
    // A retry after a lost answer: the upload is gone, the proof stands.
    const again = await server.api("POST", `/blobs/${sha256}/direct`, { upload: ticket.upload });
    expect(again).toMatchObject({ status: 201, body: { sha256, size: content.length } });
    const commit = await server.api("POST", `/projects/s3/versions/${created.body.version.id}/commit`, {});
    expect(commit.status).toBe(200);
    expect(commit.body.version).toBe("v0");
    // Bob proved nothing: logging the same bytes in a project of his own (he reads s3, whose committed version
    // would prove them, so he leaves it first), he must upload them and is offered a direct upload.
    expect((await server.api("DELETE", "/projects/s3/members/bob")).status).toBe(204);
    const bobs = await server.api(
      "POST",
      "/projects/bobs/versions",
      { name: "bobs-copy", type: "dataset", manifest: [{ path: "data.bin", sha256, size: content.length }] },
      bob.body.apiKey,
    );
    expect(bobs.body.missingBlobs).toEqual([sha256]);
    expect(bobs.body.directUploads.map((direct: { sha256: string }) => direct.sha256)).toEqual([sha256]);
    const bobsAnswer = await server.api(
      "POST",
      `/blobs/${sha256}/direct`,
      { upload: bobs.body.directUploads[0].upload },
      bob.body.apiKey,
    );
    expect(bobsAnswer.status).toBe(404);
  });

  it("answers a presigned URL for a large file asked for directly, and the bytes for a small one", async () => {
    const version = (await server.api("GET", "/projects/s3/versions?ref=s3-model:v0")).body;
    const large = await server.api("GET", `/projects/s3/versions/${version.id}/files?path=weights.bin&direct=true`);
    expect(large.status).toBe(200);
    expect(large.body).toMatchObject({ size: 3 * MiB + 5, sha256: sha256Of(patterned(3 * MiB + 5, 1)) });
    const fetched = Buffer.from(await (await fetch(large.body.url)).arrayBuffer());
    expect(fetched.equals(patterned(3 * MiB + 5, 1))).toBe(true);
    const small = await fetch(
      `${server.url}/api/v1/projects/s3/versions/${version.id}/files?path=config.bin&direct=true`,
      {
        headers: { authorization: `Bearer ${server.apiKey}` },
      },
    );
    expect(small.headers.get("content-type")).toBe("application/octet-stream");
    expect(Buffer.from(await small.arrayBuffer()).equals(patterned(200 * 1024, 2))).toBe(true);
  });
});
