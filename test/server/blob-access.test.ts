import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Artifact, Pedigree, ValidationError } from "@pedigree/sdk";
import { createLocalBlobStore, sweepPendingVersions } from "@pedigree/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Blobs are stored once for the whole server, but nobody gets bytes by naming their sha256: a version may use
 * a stored blob only when its writer proved possession (uploaded it, sent it inline, or reads a project whose
 * committed version holds it), and no answer tells whether the server holds a hash. What a refused request
 * sent leaves nothing on disk; what logging abandoned is swept.
 */
let server: TestServer;
const keys: Record<string, string> = {};
const sha256 = (content: string | Buffer) => createHash("sha256").update(content).digest("hex");
const file = (path: string, content: string) => ({ path, sha256: sha256(content), size: Buffer.byteLength(content) });
const inline = (...contents: string[]) =>
  Object.fromEntries(contents.map((content) => [sha256(content), Buffer.from(content).toString("base64")]));

function upload(content: string | Buffer, key: string, claimed = sha256(content)) {
  return fetch(`${server.url}/api/v1/blobs/${claimed}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${key}` },
    body: content,
  });
}

async function download(project: string, versionId: string, path: string, key: string) {
  const response = await fetch(
    `${server.url}/api/v1/projects/${project}/versions/${versionId}/files?path=${encodeURIComponent(path)}`,
    { headers: { authorization: `Bearer ${key}` } },
  );
  return { status: response.status, text: await response.text() };
}

/** Blob files on disk, outside the staging directory. */
async function blobFiles(): Promise<string[]> {
  const root = join(server.dir, "blobs");
  const found: string[] = [];
  for (const first of await readdir(root).catch(() => [])) {
    if (first === "tmp") continue;
    for (const second of await readdir(join(root, first))) found.push(...(await readdir(join(root, first, second))));
  }
  return found.sort();
}

const stagedFiles = () => readdir(join(server.dir, "blobs", "tmp")).catch(() => [] as string[]);

beforeAll(async () => {
  server = await startTestServer();
  keys.admin = server.apiKey;
  for (const name of ["alice", "bob", "carol", "dave"]) {
    const created = await server.api("POST", "/users", { name });
    expect(created.status).toBe(201);
    keys[name] = created.body.apiKey;
  }
  // alice writes project a, bob project b, dave project d; carol reads a and writes c.
  for (const [user, project] of [
    ["alice", "a"],
    ["bob", "b"],
    ["carol", "c"],
    ["dave", "d"],
  ] as const) {
    const run = await server.api("POST", `/projects/${project}/runs`, { jobType: "setup" }, keys[user]);
    expect(run.status).toBe(201);
  }
  expect((await server.api("PUT", "/projects/a/members/carol", { role: "viewer" }, keys.alice)).status).toBe(200);
});
afterAll(() => server.close());

/** alice logs `content` in project a through the two phases and commits it. */
async function logInA(name: string, content: string) {
  const created = await server.api(
    "POST",
    "/projects/a/versions",
    { name, type: "dataset", manifest: [file("data.txt", content)] },
    keys.alice,
  );
  if (created.status === 202) {
    expect((await upload(content, keys.alice as string)).status).toBe(201);
    const committed = await server.api(
      "POST",
      `/projects/a/versions/${created.body.version.id}/commit`,
      {},
      keys.alice,
    );
    expect(committed.status).toBe(200);
    return committed.body;
  }
  expect(created.status).toBe(201);
  return created.body.version;
}

describe("blobs: proof of possession", () => {
  it("reports another project's blob missing, refuses its commit, and serves it only after an upload", async () => {
    const secret = "project a's secret rows";
    await logInA("secret", secret);

    const named = await server.api(
      "POST",
      "/projects/b/versions",
      { name: "stolen", type: "dataset", manifest: [file("data.txt", secret)] },
      keys.bob,
    );
    const unknown = await server.api(
      "POST",
      "/projects/b/versions",
      { name: "fresh", type: "dataset", manifest: [file("data.txt", "never stored anywhere")] },
      keys.bob,
    );
    // Exactly what a hash the server never saw gets.
    expect(named.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(named.body.missingBlobs).toEqual([sha256(secret)]);
    expect(unknown.body.missingBlobs).toEqual([sha256("never stored anywhere")]);

    const versionId = named.body.version.id;
    const commit = await server.api("POST", `/projects/b/versions/${versionId}/commit`, {}, keys.bob);
    expect(commit.status).toBe(409);
    expect(commit.body.error).toMatchObject({ code: "CONFLICT", field: "blobs" });
    expect(commit.body.error.message).toContain(sha256(secret));
    expect((await download("b", versionId, "data.txt", keys.bob as string)).status).toBe(404);
    expect((await server.api("GET", "/projects/b/versions?ref=stolen", undefined, keys.bob)).status).toBe(404);

    // Uploading the bytes proves bob holds them: from then on the version may use the blob.
    expect((await upload(secret, keys.bob as string)).status).toBe(201);
    const committed = await server.api("POST", `/projects/b/versions/${versionId}/commit`, {}, keys.bob);
    expect(committed.status).toBe(200);
    expect(await download("b", versionId, "data.txt", keys.bob as string)).toEqual({ status: 200, text: secret });
  });

  it("answers an upload the same whether or not the server held the bytes, and still checks them", async () => {
    const held = "held for project a";
    await logInA("held", held);
    const known = await upload(held, keys.bob as string);
    const fresh = await upload("new to the server", keys.bob as string);
    expect(known.status).toBe(fresh.status);
    expect(known.status).toBe(201);
    expect(await known.json()).toEqual({ sha256: sha256(held), size: held.length });
    expect(await fresh.json()).toEqual({ sha256: sha256("new to the server"), size: "new to the server".length });
    // The bytes are hashed even when the blob is stored: naming a held hash with other bytes is refused.
    const forged = await upload("not the held bytes", keys.bob as string, sha256(held));
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ error: { code: "BAD_REQUEST", field: "sha256" } });
  });

  it("lets readers of a project reuse its committed blobs without uploading", async () => {
    const shared = "rows carol may read";
    const inA = await logInA("shared", shared);
    const reused = await server.api(
      "POST",
      "/projects/c/versions",
      { name: "copy", type: "dataset", manifest: [file("data.txt", shared)] },
      keys.carol,
    );
    expect(reused.status).toBe(201);
    expect(reused.body.missingBlobs).toEqual([]);
    expect(await download("c", reused.body.version.id, "data.txt", keys.carol as string)).toEqual({
      status: 200,
      text: shared,
    });
    // Server admins read every project.
    const byAdmin = await server.api("POST", "/projects/adminproj/versions", {
      name: "copy",
      type: "dataset",
      manifest: [file("data.txt", shared)],
    });
    expect(byAdmin.status).toBe(201);
    expect(inA.state).toBe("committed");
  });

  it("does not let one user's upload serve another user's version", async () => {
    const content = "bob's pending upload";
    const pending = await server.api(
      "POST",
      "/projects/b/versions",
      { name: "pending", type: "dataset", manifest: [file("data.txt", content)] },
      keys.bob,
    );
    expect(pending.status).toBe(202);
    expect((await upload(content, keys.bob as string)).status).toBe(201);
    // Not committed yet, and in a project dave cannot read: dave must show the bytes himself.
    const piggyback = await server.api(
      "POST",
      "/projects/d/versions",
      { name: "piggyback", type: "dataset", manifest: [file("data.txt", content)] },
      keys.dave,
    );
    expect(piggyback.status).toBe(202);
    expect(piggyback.body.missingBlobs).toEqual([sha256(content)]);
    const commit = await server.api("POST", `/projects/d/versions/${piggyback.body.version.id}/commit`, {}, keys.dave);
    expect(commit.status).toBe(409);
  });

  it("commits concurrent loggers of the same new content in two projects", async () => {
    const content = "logged at once in a and in b";
    const log = async (user: "alice" | "bob", project: string) => {
      const created = await server.api(
        "POST",
        `/projects/${project}/versions`,
        { name: "together", type: "dataset", manifest: [file("data.txt", content)] },
        keys[user],
      );
      expect(created.status).toBe(202);
      expect((await upload(content, keys[user] as string)).status).toBe(201);
      const committed = await server.api(
        "POST",
        `/projects/${project}/versions/${created.body.version.id}/commit`,
        {},
        keys[user],
      );
      expect(committed.status).toBe(200);
      return committed.body.id as string;
    };
    const [inA, inB] = await Promise.all([log("alice", "a"), log("bob", "b")]);
    expect(await download("a", inA, "data.txt", keys.alice as string)).toEqual({ status: 200, text: content });
    expect(await download("b", inB, "data.txt", keys.bob as string)).toEqual({ status: 200, text: content });
    expect((await blobFiles()).filter((name) => name === sha256(content))).toHaveLength(1);
  });

  it("takes inline files as proof of possession", async () => {
    const content = "held for a, sent inline by bob";
    await logInA("inline-held", content);
    const created = await server.api(
      "POST",
      "/projects/b/versions",
      { name: "inline", type: "dataset", manifest: [file("data.txt", content)], inlineBlobs: inline(content) },
      keys.bob,
    );
    expect(created.status).toBe(201);
    expect(await download("b", created.body.version.id, "data.txt", keys.bob as string)).toEqual({
      status: 200,
      text: content,
    });
  });
});

describe("blobs: refused requests leave nothing on disk", () => {
  it("keeps no file of 50 refused creates with 15 inline files each", async () => {
    const first = await server.api("POST", "/projects/d/versions", {
      name: "typed",
      type: "dataset",
      manifest: [file("a.txt", "typed as a dataset")],
      inlineBlobs: inline("typed as a dataset"),
    });
    expect(first.status).toBe(201);
    const before = await blobFiles();
    for (let attempt = 0; attempt < 50; attempt++) {
      const contents = Array.from({ length: 15 }, (_, index) => `refused ${attempt} file ${index}`);
      const refused = await server.api("POST", "/projects/d/versions", {
        name: "typed",
        type: "model",
        manifest: contents.map((content, index) => file(`f${index}.txt`, content)),
        inlineBlobs: inline(...contents),
      });
      expect(refused.status).toBe(409);
    }
    expect(await blobFiles()).toEqual(before);
    expect(await stagedFiles()).toEqual([]);
  });

  it("keeps the file of a committed version when a refused request sends it again", async () => {
    const content = "committed, then sent by a refused request";
    const committed = await server.api("POST", "/projects/d/versions", {
      name: "kept",
      type: "dataset",
      manifest: [file("k.txt", content)],
      inlineBlobs: inline(content),
    });
    expect(committed.status).toBe(201);
    const refused = await server.api("POST", "/projects/d/versions", {
      name: "kept",
      type: "model",
      manifest: [file("k.txt", content)],
      inlineBlobs: inline(content),
    });
    expect(refused.status).toBe(409);
    expect(await blobFiles()).toContain(sha256(content));
    expect(await download("d", committed.body.version.id, "k.txt", server.apiKey)).toEqual({
      status: 200,
      text: content,
    });
  });
});

describe("blobs: refused and accepted requests racing on one file", () => {
  it("never removes a file a concurrent request committed", async () => {
    const typed = await server.api("POST", "/projects/d/versions", {
      name: "race-typed",
      type: "dataset",
      manifest: [file("t.txt", "race typed")],
      inlineBlobs: inline("race typed"),
    });
    expect(typed.status).toBe(201);
    for (let round = 0; round < 5; round++) {
      const content = `raced in round ${round}`;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          server.api("POST", "/projects/d/versions", {
            // Odd requests are refused (the artifact is a dataset), even ones commit their own artifact.
            name: index % 2 ? "race-typed" : `race-${round}-${index}`,
            type: index % 2 ? "model" : "dataset",
            manifest: [file("r.txt", content)],
            inlineBlobs: inline(content),
          }),
        ),
      );
      for (const [index, result] of results.entries()) {
        expect(result.status, JSON.stringify(result.body)).toBe(index % 2 ? 409 : 201);
        if (index % 2 === 0) {
          expect(await download("d", result.body.version.id, "r.txt", server.apiKey)).toEqual({
            status: 200,
            text: content,
          });
        }
      }
    }
  });
});

describe("blobs: declared sizes and paths", () => {
  it("refuses a manifest declaring one sha256 with two sizes, naming the entry", async () => {
    const refused = await server.api("POST", "/projects/d/versions", {
      name: "two-sizes",
      type: "dataset",
      manifest: [file("a.txt", "same"), { ...file("b.txt", "same"), size: 5 }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe("manifest.1.size");
  });

  it("refuses an inline file whose declared size is not its size, naming the entry", async () => {
    const content = "twelve bytes";
    const refused = await server.api("POST", "/projects/d/versions", {
      name: "sized",
      type: "dataset",
      manifest: [file("ok.txt", "fine"), { ...file("bad.txt", content), size: 999 }],
      inlineBlobs: inline("fine", content),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe("manifest.1.size");
    expect(refused.body.error.message).toContain("bad.txt");
  });

  it("refuses a commit whose uploaded blob is not the declared size, naming the entry", async () => {
    const content = "uploaded with the wrong size declared";
    const created = await server.api("POST", "/projects/d/versions", {
      name: "sized-upload",
      type: "dataset",
      manifest: [{ ...file("big.bin", content), size: content.length + 1000 }],
    });
    expect(created.status).toBe(202);
    expect((await upload(content, server.apiKey)).status).toBe(201);
    const commit = await server.api("POST", `/projects/d/versions/${created.body.version.id}/commit`, {});
    expect(commit.status).toBe(400);
    expect(commit.body.error.field).toBe("manifest.0.size");
    expect(commit.body.error.message).toContain("big.bin");
    expect((await server.api("GET", "/projects/d/versions?ref=sized-upload")).status).toBe(404);
    // The same blob named with a wrong size by a create that would commit at once.
    const reused = await server.api("POST", "/projects/d/versions", {
      name: "sized-reuse",
      type: "dataset",
      manifest: [file("x.txt", "x"), { ...file("big.bin", content), size: 1 }],
      inlineBlobs: inline("x"),
    });
    expect(reused.status).toBe(400);
    expect(reused.body.error.field).toBe("manifest.1.size");
  });

  it("refuses a manifest holding a file and a path inside it, on the server and in the SDK", async () => {
    const refused = await server.api("POST", "/projects/d/versions", {
      name: "nested",
      type: "dataset",
      manifest: [file("model/config.json", "{}"), file("model", "weights"), file("model/sub/x", "x")],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe("manifest.0.path");
    expect(refused.body.error.message).toContain("'model'");

    const work = await mkdtemp(join(tmpdir(), "pedigree-nested-"));
    try {
      await mkdir(join(work, "model"));
      await writeFile(join(work, "weights"), "weights");
      await writeFile(join(work, "model", "config.json"), "{}");
      const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "d", pedigreeDir: server.dir });
      const run = await pd.init({ jobType: "nested" });
      const artifact = new Artifact({ name: "nested-sdk", type: "dataset" });
      await artifact.addFile(join(work, "weights"), { name: "model" });
      await artifact.addFile(join(work, "model", "config.json"), { name: "model/config.json" });
      const failure = await run.logArtifact(artifact).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ValidationError);
      expect((failure as ValidationError).field).toBe("manifest.1.path");
      await run.finish();
      expect((await server.api("GET", "/projects/d/artifacts/nested-sdk")).status).toBe(404);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe("blobs: sweeps", () => {
  it("sweeps pending versions older than the threshold with the uploads only they used", async () => {
    const abandoned = "uploaded for a version never committed";
    const kept = "held by a committed version";
    const stale = await server.api("POST", "/projects/d/versions", {
      name: "abandoned",
      type: "dataset",
      manifest: [file("a.txt", abandoned), file("k.txt", kept)],
    });
    expect(stale.status).toBe(202);
    expect((await upload(abandoned, server.apiKey)).status).toBe(201);
    expect((await upload(kept, server.apiKey)).status).toBe(201);
    const committed = await server.api("POST", "/projects/d/versions", {
      name: "committed",
      type: "dataset",
      manifest: [file("k.txt", kept)],
    });
    expect(committed.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const threshold = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const fresh = await server.api("POST", "/projects/d/versions", {
      name: "fresh",
      type: "dataset",
      manifest: [file("f.txt", "not uploaded yet")],
    });
    expect(fresh.status).toBe(202);

    const swept = await sweepPendingVersions(
      server.database,
      createLocalBlobStore(join(server.dir, "blobs")),
      threshold,
    );
    expect(swept.versions).toBeGreaterThanOrEqual(1);
    const commit = await server.api("POST", `/projects/d/versions/${stale.body.version.id}/commit`, {});
    expect(commit.status).toBe(404);
    const files = await blobFiles();
    expect(files).not.toContain(sha256(abandoned));
    expect(files).toContain(sha256(kept));
    expect(await download("d", committed.body.version.id, "k.txt", server.apiKey)).toEqual({
      status: 200,
      text: kept,
    });
    // The fresh pending version is still there: uploading and committing it works.
    expect((await upload("not uploaded yet", server.apiKey)).status).toBe(201);
    const late = await server.api("POST", `/projects/d/versions/${fresh.body.version.id}/commit`, {});
    expect(late.status).toBe(200);
    // The abandoned content can be logged again from scratch: the sweep left no half state.
    const again = await server.api("POST", "/projects/d/versions", {
      name: "abandoned",
      type: "dataset",
      manifest: [file("a.txt", abandoned), file("k.txt", kept)],
    });
    expect(again.status).toBe(202);
    expect(again.body.missingBlobs).toEqual([sha256(abandoned)]);
  });

  it("removes the temporary file of an upload whose process died, never one in progress", async () => {
    const root = await mkdtemp(join(tmpdir(), "pedigree-dead-uploads-"));
    try {
      const store = createLocalBlobStore(root);
      const content = "an upload still coming in";
      const body = new PassThrough();
      const live = store.stage(sha256(content), body, 1024);
      body.write(content.slice(0, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A file of this process that no upload here owns was left by an earlier process with the same pid.
      const [liveName] = await readdir(join(root, "tmp"));
      const leftover = (liveName as string).replace(/^\d+\.[^.]+/, `${process.pid}.left-by-an-earlier-process`);
      await writeFile(join(root, "tmp", leftover), "half");
      expect(await store.removeDeadUploads()).toBe(1);
      expect(await readdir(join(root, "tmp"))).toEqual([liveName]);
      body.end(content.slice(5));
      const staged = await live;
      await store.place([staged]);
      expect(await readdir(join(root, "tmp"))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("removes at start the temporary file of an upload cut by a killed server", async () => {
    const { startServerProcess } = await import("../fixtures/server-process");
    const { createTestDatabaseUrl, testDatabaseKind } = await import("../fixtures/server");
    const dir = await mkdtemp(join(tmpdir(), "pedigree-killed-upload-"));
    const database = testDatabaseKind() === "postgres" ? await createTestDatabaseUrl() : null;
    const apiKey = `pdg_killed_${Date.now()}`;
    const start = () => startServerProcess({ dir, apiKey, ...(database ? { databaseUrl: database.url } : {}) });
    try {
      const first = await start();
      const content = Buffer.alloc(4 * 1024 * 1024, 7);
      const request = httpRequest(`${first.url}/api/v1/blobs/${sha256(content)}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${apiKey}`, "content-length": String(content.length) },
      });
      request.on("error", () => {});
      request.write(content.subarray(0, 1024 * 1024));
      const tmp = join(dir, "data", "blobs", "tmp");
      for (let waited = 0; (await readdir(tmp).catch(() => [])).length === 0 && waited < 5000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await readdir(tmp)).toHaveLength(1);
      await first.kill();
      request.destroy();
      expect(await readdir(tmp)).toHaveLength(1);
      const second = await start();
      expect(await readdir(tmp)).toEqual([]);
      await second.stop();
    } finally {
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
