import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSdkTransfer } from "../fixtures/sdk-transfer";
import { createTestDatabaseUrl, testDatabaseKind } from "../fixtures/server";
import { type ServerProcess, startServerProcess } from "../fixtures/server-process";

const apiKey = "pdg_transfer_tests_key";
const MiB = 2 ** 20;
let dir: string;
let server: ServerProcess;
let dropDatabase = async () => {};
let pd: Pedigree;
// The server in its own process, as deployed: what it writes and what the SDK reports are not one event loop.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pedigree-transfer-"));
  let databaseUrl: string | undefined;
  if (testDatabaseKind() === "postgres") {
    const database = await createTestDatabaseUrl();
    databaseUrl = database.url;
    dropDatabase = database.drop;
  }
  server = await startServerProcess({ dir: join(dir, "server"), databaseUrl, apiKey });
  pd = new Pedigree({ baseUrl: server.url, apiKey, project: "transfer", pedigreeDir: join(dir, "client") });
});
afterAll(async () => {
  await server?.stop();
  await dropDatabase();
  await rm(dir, { recursive: true, force: true });
});

/** A file of `bytes` zeros that takes no room on disk until it is copied. */
async function sparseFile(name: string, bytes: number) {
  const path = join(dir, name);
  await writeFile(path, "");
  await truncate(path, bytes);
  return path;
}

/** The largest TCP send buffer plus the largest receive buffer the kernel may give a socket. */
function largestSocketBuffers(): number {
  const largest = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, "utf8").trim().split(/\s+/)[2]);
  return largest("tcp_wmem") + largest("tcp_rmem");
}

/** Bytes the server has written to its blob store: uploads under way (temporary files) and kept blobs. */
function bytesServerWrote(): number {
  let total = 0;
  const walk = (path: string) => {
    const entries = existsSync(path) ? readdirSync(path, { withFileTypes: true }) : [];
    for (const entry of entries) {
      if (entry.isDirectory()) walk(join(path, entry.name));
      else total += statSync(join(path, entry.name), { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  walk(join(dir, "server", "data", "blobs"));
  return total;
}

describe("sdk: uploads stream from the file", () => {
  it("uploads a 512 MiB file with the SDK's peak RSS under 150 MB above its baseline", async () => {
    const file = await sparseFile("weights-512.bin", 512 * MiB);
    const result = await runSdkTransfer({
      action: "upload",
      baseUrl: server.url,
      apiKey,
      pedigreeDir: join(dir, "child"),
      name: "weights-512",
      path: file,
    });
    expect(result.progressMax).toBe(512 * MiB);
    expect(result.peakMb - result.baselineMb).toBeLessThan(150);
    const version = await pd.artifact("weights-512:latest");
    expect(version.size).toBe(512 * MiB);
  });

  it("reports upload progress no further than the bytes the server wrote, also while the server stalls", async () => {
    const size = 256 * MiB;
    const file = await sparseFile("weights-256.bin", size);
    const artifact = new Artifact({ name: "weights-256", type: "model" });
    await artifact.addFile(file);
    const before = bytesServerWrote();
    const run = await pd.init({ jobType: "training" });
    const reports: { bytes: number; totalBytes: number }[] = [];
    let ahead = 0;
    let stalled: Promise<void> | undefined;
    await run.logArtifact(artifact, {
      onProgress: ({ bytes, totalBytes }) => {
        reports.push({ bytes, totalBytes });
        ahead = Math.max(ahead, bytes - (bytesServerWrote() - before));
        // A second of a server (or network) that takes nothing: the file must not be reported as sent meanwhile.
        if (bytes >= 32 * MiB && !stalled) {
          process.kill(server.pid, "SIGSTOP");
          stalled = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() => {
            process.kill(server.pid, "SIGCONT");
          });
        }
      },
    });
    await stalled;
    await run.finish();
    expect(reports.at(-1)).toEqual({ bytes: size, totalBytes: size });
    expect(reports.every((report, index) => index === 0 || report.bytes >= (reports[index - 1]?.bytes ?? 0))).toBe(
      true,
    );
    // At most what the kernel may hold between the two sockets (their largest send and receive buffers) and one
    // chunk on each side, not what the SDK could read ahead of the socket (up to the whole file).
    expect(ahead).toBeLessThan(largestSocketBuffers() + 4 * MiB);
  });
});

/** A version of `count` files with long paths (a manifest of about 1 KB per file), all of one small content. */
async function logFiles(name: string, files: Record<string, string>) {
  const contents = Object.entries(files).map(([path, text]) => {
    const bytes = Buffer.from(text);
    return { path, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
  });
  const response = await fetch(`${server.url}/api/v1/projects/transfer/versions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      name,
      type: "dataset",
      manifest: contents.map(({ path, bytes, sha256 }) => ({ path, sha256, size: bytes.length })),
      inlineBlobs: Object.fromEntries(contents.map(({ bytes, sha256 }) => [sha256, bytes.toString("base64")])),
    }),
  });
  expect(response.status).toBe(201);
  return { version: await pd.artifact(`${name}:latest`), contents };
}

const blobPath = (sha256: string) =>
  join(dir, "server", "data", "blobs", sha256.slice(0, 2), sha256.slice(2, 4), sha256);

async function logManyFiles(name: string, count: number) {
  const content = Buffer.from(`${name}\n`);
  const sha256 = createHash("sha256").update(content).digest("hex");
  const long = (letter: string) => letter.repeat(200);
  const manifest = Array.from({ length: count }, (_, index) => ({
    path: `${long("a")}/${long("b")}/${long("c")}/${long("d")}/${index}-${long("e")}`,
    sha256,
    size: content.length,
  }));
  const response = await fetch(`${server.url}/api/v1/projects/transfer/versions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name, type: "dataset", manifest, inlineBlobs: { [sha256]: content.toString("base64") } }),
  });
  expect(response.status).toBe(201);
  return pd.artifact(`${name}:latest`);
}

async function countFiles(path: string): Promise<number> {
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).length;
}

describe("sdk: downloads", () => {
  it("downloads a version of 2,000 files in time linear in its files (the manifest is not read per file)", async () => {
    const small = await logManyFiles("files-200", 200);
    const large = await logManyFiles("files-2000", 2_000);
    const timed = async (version: typeof small, count: number) => {
      const started = performance.now();
      const target = await version.download(join(dir, `download-${version.name}`));
      const perFile = (performance.now() - started) / count;
      expect(await countFiles(target)).toBe(count);
      return perFile;
    };
    await timed(small, 200); // warm-up
    const perFileSmall = await timed(small, 200);
    const perFileLarge = await timed(large, 2_000);
    // Quadratic (a manifest of N entries read for each of N files) makes a file of the large version ~10x dearer.
    expect(perFileLarge).toBeLessThan(3 * perFileSmall);
  });

  it("refuses a file whose bytes do not match its sha256, and leaves no partial file", async () => {
    const { version, contents } = await logFiles("corrupted", {
      "a.txt": "first file\n",
      "b/c.txt": "the file the disk will corrupt\n",
    });
    const corrupted = contents[1] as (typeof contents)[number];
    // Same length, other bytes: only the sha256 can tell.
    await writeFile(blobPath(corrupted.sha256), Buffer.alloc(corrupted.bytes.length, "x"));
    const target = join(dir, "download-corrupted");
    await expect(version.download(target)).rejects.toThrow(`b/c.txt: downloaded sha256`);
    const left = await readdir(target, { recursive: true });
    expect(left.filter((name) => name.includes("partial"))).toEqual([]);
    expect(left).not.toContain(join("b", "c.txt"));
  });

  it("refuses a file cut short by the server, and leaves no partial file", async () => {
    const bytes = Buffer.from("0123456789".repeat(100_000));
    await writeFile(join(dir, "big.txt"), bytes);
    const artifact = new Artifact({ name: "cut-short", type: "dataset" });
    const entry = await artifact.addFile(join(dir, "big.txt"));
    const run = await pd.init({ jobType: "prepare" });
    const version = await run.logArtifact(artifact);
    await run.finish();
    await writeFile(blobPath((entry as { sha256: string }).sha256), bytes.subarray(0, 500_000));
    const target = join(dir, "download-cut-short");
    await expect(version.download(target)).rejects.toThrow("big.txt: the download was cut after");
    expect(await readdir(target, { recursive: true }).catch(() => [])).toEqual([]);
  });

  it("answers a path that is a reference with 400 and a path not in the version with 404, naming it", async () => {
    const bytes = Buffer.from("stored\n");
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const created = await fetch(`${server.url}/api/v1/projects/transfer/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "mixed",
        type: "dataset",
        manifest: [
          { path: "stored.txt", sha256, size: bytes.length },
          { path: "remote.csv", uri: "s3://bucket/remote.csv" },
        ],
        inlineBlobs: { [sha256]: bytes.toString("base64") },
      }),
    });
    const { version } = (await created.json()) as { version: { id: string } };
    const file = (path: string) =>
      fetch(`${server.url}/api/v1/projects/transfer/versions/${version.id}/files?path=${encodeURIComponent(path)}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
    const stored = await file("stored.txt");
    expect(stored.status).toBe(200);
    expect(stored.headers.get("content-length")).toBe(String(bytes.length));
    expect(Buffer.from(await stored.arrayBuffer())).toEqual(bytes);
    const reference = await file("remote.csv");
    expect(reference.status).toBe(400);
    expect(await reference.json()).toEqual({
      error: {
        code: "BAD_REQUEST",
        message: "'remote.csv' is a reference to s3://bucket/remote.csv; its bytes are not stored here",
        field: "path",
      },
    });
    const missing = await file("absent.txt");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string; field: string } }).error).toMatchObject({
      field: "path",
      message: expect.stringContaining("'absent.txt' in version mixed:v0"),
    });
  });
});
