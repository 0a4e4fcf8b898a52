import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Limits } from "@pedigree/protocol";
import { createLocalBlobStore } from "@pedigree/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

const maxJsonBodyBytes = 256 * 1024;
let server: TestServer;
let versionId = "";
beforeAll(async () => {
  server = await startTestServer({ config: { maxJsonBodyBytes } });
  const content = "limits rows";
  await fetch(`${server.url}/api/v1/blobs/${sha256(content)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${server.apiKey}` },
    body: content,
  });
  const created = await server.api("POST", "/projects/limits/versions", {
    name: "ds",
    type: "dataset",
    manifest: [{ path: "dir/data.txt", sha256: sha256(content), size: content.length }],
  });
  versionId = created.body.version.id;
});
afterAll(() => server.close());

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function expectRefused(response: { status: number; body: any }, status: number, field: string, limit?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.field).toBe(field);
  if (limit) expect(response.body.error.message).toContain(limit);
}

describe("limits: request size", () => {
  it("answers 413 naming the limit for a JSON body over it", async () => {
    const big = { jobType: "x", config: { blob: "x".repeat(maxJsonBodyBytes) } };
    expectRefused(await server.api("POST", "/projects/limits/runs", big), 413, "body", "maxJsonBodyBytes");
  });

  it("answers 413 for an oversized body sent in chunks without a length", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        `${server.url}/api/v1/projects/limits/runs`,
        { method: "POST", headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on("error", reject);
      request.write('{"jobType":"x","config":{"blob":"');
      for (let sent = 0; sent < maxJsonBodyBytes * 2; sent += 16 * 1024) request.write("y".repeat(16 * 1024));
      request.end('"}}');
    });
    expect(status).toBe(413);
    expect((await server.api("GET", "/projects/limits/runs")).body.runs).toEqual([]);
  });
});

describe("limits: logged JSON", () => {
  it("refuses metadata over maxJsonBytes and nesting over maxJsonDepth", async () => {
    const bigServer = await startTestServer();
    try {
      const metadata = { text: "m".repeat(Limits.maxJsonBytes) };
      const response = await bigServer.api("POST", "/projects/limits/versions", {
        name: "meta",
        type: "dataset",
        manifest: [],
        metadata,
      });
      expectRefused(response, 400, "metadata", "maxJsonBytes");
      const config = { text: "c".repeat(Limits.maxJsonBytes) };
      expectRefused(await bigServer.api("POST", "/projects/limits/runs", { config }), 400, "config", "maxJsonBytes");
    } finally {
      await bigServer.close();
    }
    let deep: unknown = 1;
    for (let level = 0; level <= Limits.maxJsonDepth; level++) deep = { d: deep };
    expectRefused(await server.api("POST", "/projects/limits/runs", { config: deep }), 400, "config", "maxJsonDepth");
    // Far deeper than PostgreSQL's stack allows: still a 400, never a crash.
    const abyss = `{"config":${'{"d":'.repeat(40_000)}1${"}".repeat(40_000)}}`;
    const response = await fetch(`${server.url}/api/v1/projects/limits/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body: abyss,
    });
    expect(response.status).toBe(400);
  }, 60_000);

  it("refuses text PostgreSQL cannot store, naming the field", async () => {
    const nul = await server.api("POST", "/projects/limits/versions", {
      name: "ds2",
      type: "dataset",
      manifest: [],
      description: "a\u0000b",
    });
    expectRefused(nul, 400, "description");
    const surrogate = await server.api("POST", "/projects/limits/runs", { config: { note: "\ud800" } });
    expectRefused(surrogate, 400, "config.note");
    const key = await server.api("POST", "/projects/limits/runs", { summary: {}, config: { "k\u0000": 1 } });
    expectRefused(key, 400, "config.k\u0000");
  });
});

describe("limits: names, manifests and pages", () => {
  it("refuses names over their length", async () => {
    const manifest: unknown[] = [];
    expectRefused(
      await server.api("POST", "/projects/limits/versions", { name: "a".repeat(129), type: "dataset", manifest }),
      400,
      "name",
      "at most 128",
    );
    expectRefused(await server.api("POST", `/projects/${"p".repeat(65)}/runs`, {}), 400, "project", "at most 64");
    expectRefused(await server.api("POST", "/projects/limits/runs", { name: "r".repeat(129) }), 400, "name");
    expectRefused(await server.api("POST", "/projects/limits/runs", { tags: ["t".repeat(65)] }), 400, "tags.0");
    expectRefused(await server.api("POST", "/users", { name: "u".repeat(65) }), 400, "name");
  });

  it("refuses a manifest over maxManifestEntries", async () => {
    const bigServer = await startTestServer();
    try {
      const manifest = Array.from({ length: Limits.maxManifestEntries + 1 }, (_, index) => ({
        path: `f${index}`,
        uri: "s3://b/k",
      }));
      const response = await bigServer.api("POST", "/projects/limits/versions", { name: "m", type: "t", manifest });
      expectRefused(response, 400, "manifest", "maxManifestEntries");
    } finally {
      await bigServer.close();
    }
  }, 60_000);

  it("refuses page sizes over maxPageSize and cursors it did not hand out", async () => {
    expectRefused(await server.api("GET", "/projects/limits/runs?limit=1001"), 400, "limit", "maxPageSize");
    expectRefused(await server.api("GET", "/projects/limits/runs?limit=0"), 400, "limit");
    expectRefused(await server.api("GET", "/projects/limits/runs?cursor=abc"), 400, "cursor");
    expect((await server.api("GET", `/projects/limits/runs?limit=${Limits.maxPageSize}`)).status).toBe(200);
  });
});

describe("limits: path traversal", () => {
  const unsafe = [
    "../etc/passwd",
    "a/../../b",
    "/etc/passwd",
    "a\\..\\b",
    "C:\\x",
    "a\u0000b",
    "./a",
    "a//b",
    "a/",
    "",
  ];

  it.each(unsafe.map((path) => [JSON.stringify(path), path]))("refuses %s in a logged manifest", async (_, path) => {
    const stored = await server.api("POST", "/projects/limits/versions", {
      name: "trav",
      type: "dataset",
      manifest: [{ path, sha256: sha256("x"), size: 1 }],
    });
    expect(stored.status).toBe(400);
    expect(stored.body.error.field).toMatch(/^manifest\.0(\.path)?$/);
    const reference = await server.api("POST", "/projects/limits/versions", {
      name: "trav",
      type: "dataset",
      manifest: [
        { path: "ok", uri: "s3://b/k" },
        { path, uri: "s3://b/k" },
      ],
    });
    expect(reference.status).toBe(400);
    expect(reference.body.error.field).toMatch(/^manifest\.1(\.path)?$/);
  });

  it.each(unsafe.map((path) => [JSON.stringify(path), path]))("refuses %s on download", async (_, path) => {
    const response = await server.api(
      "GET",
      `/projects/limits/versions/${versionId}/files?path=${encodeURIComponent(path)}`,
    );
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe("path");
  });

  it("serves a safe path, and nothing was logged by the refused attempts", async () => {
    const response = await fetch(
      `${server.url}/api/v1/projects/limits/versions/${versionId}/files?path=${encodeURIComponent("dir/data.txt")}`,
      { headers: { authorization: `Bearer ${server.apiKey}` } },
    );
    expect(await response.text()).toBe("limits rows");
    expect((await server.api("GET", "/projects/limits/artifacts/trav")).status).toBe(404);
  });
});

describe("limits: uploads", () => {
  it("keeps no blob and no committed version when an upload is cut mid-stream", async () => {
    const content = "z".repeat(4 * 1024 * 1024);
    const digest = sha256(content);
    const created = await server.api("POST", "/projects/limits/versions", {
      name: "cut",
      type: "dataset",
      manifest: [{ path: "big.bin", sha256: digest, size: content.length }],
    });
    expect(created.status).toBe(202);
    await new Promise<void>((resolve) => {
      const request = httpRequest(`${server.url}/api/v1/blobs/${digest}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${server.apiKey}`, "content-length": String(content.length) },
      });
      request.on("error", () => resolve());
      request.write(content.slice(0, 1024 * 1024), () => setTimeout(() => request.destroy(), 100));
      request.on("close", () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const blobDir = join(server.dir, "blobs");
    const stored = await readdir(join(blobDir, digest.slice(0, 2), digest.slice(2, 4))).catch(() => []);
    expect(stored).toEqual([]);
    expect(await readdir(join(blobDir, "tmp")).catch(() => [])).toEqual([]);
    const commit = await server.api("POST", `/projects/limits/versions/${created.body.version.id}/commit`, {});
    expectRefused(commit, 409, "blobs");
    expect((await server.api("GET", "/projects/limits/versions?ref=cut")).status).toBe(404);
  });

  it("removes what uploads cut by a killed process left in tmp/, and nothing younger", async () => {
    const root = await mkdtemp(join(tmpdir(), "pedigree-blobs-"));
    try {
      const store = createLocalBlobStore(root);
      await mkdir(join(root, "tmp"), { recursive: true });
      await writeFile(join(root, "tmp", "cut-long-ago"), "half");
      const hourAndMinuteAgo = new Date(Date.now() - 61 * 60_000);
      await utimes(join(root, "tmp", "cut-long-ago"), hourAndMinuteAgo, hourAndMinuteAgo);
      await writeFile(join(root, "tmp", "live-upload"), "still coming");
      expect(await store.removeDeadUploads(60 * 60_000)).toBe(1);
      expect(await readdir(join(root, "tmp"))).toEqual(["live-upload"]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
