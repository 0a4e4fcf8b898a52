import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCountingProxy } from "../fixtures/counting-proxy";
import { runSdkTransfer } from "../fixtures/sdk-transfer";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
let work: string;

beforeAll(async () => {
  server = await startTestServer();
  proxy = await startCountingProxy(server.url);
  work = await mkdtemp(join(tmpdir(), "pedigree-cache-"));
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

/** A client with a cache of its own, talking to the server through the counting proxy. */
async function client(name: string, options: { cacheMaxBytes?: number; project?: string; apiKey?: string } = {}) {
  const pedigreeDir = join(work, name);
  await mkdir(pedigreeDir, { recursive: true });
  return {
    pedigreeDir,
    cacheDir: join(pedigreeDir, "cache"),
    pd: new Pedigree({
      baseUrl: proxy.url,
      apiKey: options.apiKey ?? server.apiKey,
      project: options.project ?? "cache",
      pedigreeDir,
      ...(options.cacheMaxBytes !== undefined ? { cacheMaxBytes: options.cacheMaxBytes } : {}),
    }),
  };
}

/** Writes files of random bytes (larger than the inline limit, so each upload is a PUT /blobs) into a directory. */
async function randomFiles(dir: string, sizes: Record<string, number>) {
  await mkdir(dir, { recursive: true });
  const contents: Record<string, Buffer> = {};
  for (const [name, size] of Object.entries(sizes)) {
    contents[name] = randomBytes(size);
    await writeFile(join(dir, name), contents[name]);
  }
  return contents;
}

async function logDir(pd: Pedigree, name: string, dir: string) {
  const run = await pd.init({ jobType: "log" });
  const artifact = new Artifact({ name, type: "dataset" });
  await artifact.addDir(dir);
  const version = await run.logArtifact(artifact);
  await run.finish();
  return version;
}

function cachedBlobs(cacheDir: string): string[] {
  const root = join(cacheDir, "blobs");
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix)));
}

const blobPath = (cacheDir: string, sha256: string) => join(cacheDir, "blobs", sha256.slice(0, 2), sha256);

describe("sdk cache: downloads go through a content-addressed cache", () => {
  it("fetches each file once and hard-links the read-only cached blob into every target", async () => {
    const { pd, cacheDir } = await client("links");
    const contents = await randomFiles(join(work, "links-src"), { "a.bin": 100_000, "b.bin": 70_000 });
    const logged = await logDir(pd, "links", join(work, "links-src"));
    const version = await pd.artifact(logged.ref);
    proxy.reset();
    const first = await version.download(join(work, "links-1"));
    const second = await version.download(join(work, "links-2"));
    // Two files, two downloads: the second download is served by the cache.
    expect(proxy.matching("GET", /\/files\?/)).toHaveLength(2);
    const manifest = await version.fetchDetails();
    for (const entry of manifest.manifest) {
      if (!("sha256" in entry)) continue;
      const blob = statSync(blobPath(cacheDir, entry.sha256));
      expect(blob.mode & 0o777).toBe(0o444);
      for (const dir of [first, second]) {
        const placed = statSync(join(dir, entry.path));
        expect(placed.ino).toBe(blob.ino);
        expect(readFileSync(join(dir, entry.path)).equals(contents[entry.path] as Buffer)).toBe(true);
      }
    }
    expect(readdirSync(join(cacheDir, "tmp"))).toEqual([]);
  });

  it("places editable copies, not links, with copy: true", async () => {
    const { pd, cacheDir } = await client("links");
    const version = await pd.artifact("links:v0");
    const dir = await version.download(join(work, "links-copy"), { copy: true });
    const entry = (await version.fetchDetails()).manifest.find((e) => e.path === "a.bin") as { sha256: string };
    const placed = statSync(join(dir, "a.bin"));
    expect(placed.ino).not.toBe(statSync(blobPath(cacheDir, entry.sha256)).ino);
    expect(placed.mode & 0o200).toBe(0o200);
    writeFileSync(join(dir, "a.bin"), "edited");
    expect(statSync(blobPath(cacheDir, entry.sha256)).size).toBe(100_000);
  });

  it("a write through a hard link cannot corrupt what the cache serves: the blob is checked, dropped, fetched", async () => {
    const { pd, cacheDir } = await client("tamper");
    const contents = await randomFiles(join(work, "tamper-src"), { "weights.bin": 200_000 });
    const logged = await logDir(pd, "tamper", join(work, "tamper-src"));
    const version = await pd.artifact(logged.ref);
    const dir = await version.download(join(work, "tamper-1"));
    const target = join(dir, "weights.bin");
    if (process.getuid?.() !== 0) {
      // An ordinary user's in-place write fails: the linked file is read-only.
      expect(() => writeFileSync(target, "overwritten")).toThrow(/EACCES/);
    }
    // Root, or a user who chmods first, writes through the link anyway: same inode, same size, other bytes.
    chmodSync(target, 0o644);
    const tampered = Buffer.alloc(200_000, 7);
    writeFileSync(target, tampered);
    const sha256 = ((await version.fetchDetails()).manifest[0] as { sha256: string }).sha256;
    expect(readFileSync(blobPath(cacheDir, sha256)).equals(tampered)).toBe(true);
    proxy.reset();
    const again = await version.download(join(work, "tamper-2"));
    // The cache saw the moved mtime, hashed the blob, dropped it and fetched the real bytes.
    expect(proxy.matching("GET", /\/files\?/)).toHaveLength(1);
    expect(readFileSync(join(again, "weights.bin")).equals(contents["weights.bin"] as Buffer)).toBe(true);
    expect(readFileSync(blobPath(cacheDir, sha256)).equals(contents["weights.bin"] as Buffer)).toBe(true);
    // The tampered target is the user's own file now, no longer the cache's.
    expect(statSync(target).ino).not.toBe(statSync(blobPath(cacheDir, sha256)).ino);
  });

  it("evicts the least recently used blobs beyond the byte bound", async () => {
    const { pd, cacheDir } = await client("lru", { cacheMaxBytes: 250_000 });
    const versions = [];
    for (const name of ["lru-a", "lru-b", "lru-c"]) {
      await randomFiles(join(work, `${name}-src`), { "data.bin": 100_000 });
      versions.push(await pd.artifact((await logDir(pd, name, join(work, `${name}-src`))).ref));
    }
    const [a, b, c] = versions as [(typeof versions)[0], (typeof versions)[0], (typeof versions)[0]];
    const shaOf = async (version: typeof a) =>
      ((await version.fetchDetails()).manifest[0] as { sha256: string }).sha256;
    await a.download(join(work, "lru-1"));
    await b.download(join(work, "lru-2"));
    await a.download(join(work, "lru-3")); // a is used again: b is now the least recently used
    expect(cachedBlobs(cacheDir).sort()).toEqual([await shaOf(a), await shaOf(b)].sort());
    await c.download(join(work, "lru-4"));
    expect(cachedBlobs(cacheDir).sort()).toEqual([await shaOf(a), await shaOf(c)].sort());
    // What was placed stays whole: an evicted blob's links in targets keep their bytes.
    expect(statSync(join(work, "lru-2", "data.bin")).size).toBe(100_000);
  });

  it("two processes downloading one version at once both get verified files; the cache holds each blob once", async () => {
    const pd = new Pedigree({
      baseUrl: server.url,
      apiKey: server.apiKey,
      project: "transfer",
      pedigreeDir: server.dir,
    });
    const sizes = { "x.bin": 24_000_000, "y.bin": 20_000_000, "z.bin": 16_000_000 };
    const contents = await randomFiles(join(work, "both-src"), sizes);
    await logDir(pd, "both", join(work, "both-src"));
    const pedigreeDir = join(work, "shared-cache");
    // Both processes warm up (modules, a first request), then start their downloads at the same moment.
    const startAt = Date.now() + 8_000;
    const job = {
      action: "download" as const,
      baseUrl: server.url,
      apiKey: server.apiKey,
      pedigreeDir,
      name: "both",
      startAt,
    };
    await Promise.all([
      runSdkTransfer({ ...job, path: join(work, "both-1") }),
      runSdkTransfer({ ...job, path: join(work, "both-2") }),
    ]);
    for (const dir of ["both-1", "both-2"]) {
      for (const [name, bytes] of Object.entries(contents)) {
        expect((await readFile(join(work, dir, name))).equals(bytes)).toBe(true);
      }
      expect(readdirSync(join(work, dir)).sort()).toEqual(Object.keys(sizes).sort());
    }
    expect(cachedBlobs(join(pedigreeDir, "cache"))).toHaveLength(3);
    expect(readdirSync(join(pedigreeDir, "cache", "tmp"))).toEqual([]);
  });
});

describe("sdk: version.newDraft()", () => {
  it("logs a new version from an old one uploading only the files that changed", async () => {
    const { pd } = await client("draft", { project: "drafts" });
    const sizes = { "train.bin": 300_000, "test.bin": 200_000, "old.bin": 150_000 };
    const contents = await randomFiles(join(work, "draft-src"), sizes);
    const v0 = await logDir(pd, "corpus", join(work, "draft-src"));
    const added = await randomFiles(join(work, "draft-new"), { "extra.bin": 120_000 });

    const draft = await (await pd.artifact("corpus:v0")).newDraft();
    expect(draft.manifest.map((entry) => entry.path).sort()).toEqual(["old.bin", "test.bin", "train.bin"]);
    expect(draft.remove("old.bin").map((entry) => entry.path)).toEqual(["old.bin"]);
    await draft.addFile(join(work, "draft-new", "extra.bin"));
    proxy.reset();
    const run = await pd.init({ jobType: "update" });
    const v1 = await run.logArtifact(draft);
    await run.finish();

    const puts = proxy.matching("PUT", /^\/api\/v1\/blobs\//);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.bytes).toBe(120_000);
    expect(v1.version).toBe("v1");
    expect(v1.id).not.toBe(v0.id);
    const dir = await (await pd.artifact("corpus:v1")).download(join(work, "draft-out"));
    expect(readdirSync(dir).sort()).toEqual(["extra.bin", "test.bin", "train.bin"]);
    expect((await readFile(join(dir, "train.bin"))).equals(contents["train.bin"] as Buffer)).toBe(true);
    expect((await readFile(join(dir, "extra.bin"))).equals(added["extra.bin"] as Buffer)).toBe(true);
  });

  it("lets another member who reads the project log a draft without uploading the files it kept", async () => {
    const created = await server.api("POST", "/users", { name: "drafter" });
    expect(created.status).toBe(201);
    expect((await server.api("PUT", "/projects/drafts/members/drafter", { role: "member" })).status).toBe(200);
    const { pd } = await client("drafter", { project: "drafts", apiKey: created.body.apiKey });
    const draft = await (await pd.artifact("corpus:v1")).newDraft();
    draft.remove("test.bin");
    draft.metadata = { ...draft.metadata, note: "no test split" };
    proxy.reset();
    const run = await pd.init({ jobType: "update" });
    const v2 = await run.logArtifact(draft);
    await run.finish();
    expect(proxy.matching("PUT", /^\/api\/v1\/blobs\//)).toHaveLength(0);
    expect(v2.version).toBe("v2");
    expect(await (await pd.artifact("corpus:v2")).metadata()).toEqual({ note: "no test split" });
  });

  it("fetches and uploads the kept files for a writer who read the version only through a registry", async () => {
    const { pd: admin } = await client("draft", { project: "drafts" });
    await admin.createRegistry({ name: "corpora", visibility: "organization" });
    await admin.registry("corpora").link("corpus:v0", "corpus");
    const created = await server.api("POST", "/users", { name: "registry-reader" });
    expect(created.status).toBe(201);
    // No role in project drafts: the registry is this user's only way to the version.
    const { pd } = await client("registry-reader", { project: "readers", apiKey: created.body.apiKey });
    const source = await pd.artifact("corpora/corpus:latest");
    const draft = await source.newDraft();
    await randomFiles(join(work, "reader-new"), { "notes.bin": 80_000 });
    await draft.addFile(join(work, "reader-new", "notes.bin"));
    proxy.reset();
    const run = await pd.init({ jobType: "derive" });
    const derived = await run.logArtifact(draft);
    await run.finish();
    expect(derived.queued).toBe(false);
    expect(derived.project).toBe("readers");
    // The server may not take possession from a version this writer cannot read in its project: every file goes up.
    expect(
      proxy
        .matching("PUT", /^\/api\/v1\/blobs\//)
        .map((r) => r.bytes)
        .sort((a, b) => a - b),
    ).toEqual([80_000, 150_000, 200_000, 300_000]);
    const dir = await (await pd.artifact(derived.ref)).download(join(work, "reader-out"));
    expect(readdirSync(dir).sort()).toEqual(["notes.bin", "old.bin", "test.bin", "train.bin"]);
  });
});
