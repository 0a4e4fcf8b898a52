import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function upload(content: string, claimed = sha256(content)) {
  const response = await fetch(`${server.url}/api/v1/blobs/${claimed}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${server.apiKey}` },
    body: content,
  });
  return { status: response.status, body: (await response.json()) as { error: { field: string } } };
}

async function logVersion(project: string, name: string, content: string, extra: Record<string, unknown> = {}) {
  const manifest = [{ path: "data.txt", sha256: sha256(content), size: content.length }];
  const created = await server.api("POST", `/projects/${project}/versions`, {
    name,
    type: "dataset",
    manifest,
    ...extra,
  });
  if (created.body.missingBlobs?.length) {
    await upload(content);
    return server.api("POST", `/projects/${project}/versions/${created.body.version.id}/commit`, {
      runId: extra.runId,
      aliases: extra.aliases ?? [],
    });
  }
  return { status: created.status, body: created.body.version };
}

describe("versions: two-phase logging", () => {
  it("keeps a version pending and invisible until its blobs are uploaded and it is committed", async () => {
    const manifest = [{ path: "a.txt", sha256: sha256("pending"), size: 7 }];
    const created = await server.api("POST", "/projects/twophase/versions", { name: "ds", type: "dataset", manifest });
    expect(created.status).toBe(202);
    expect(created.body.missingBlobs).toEqual([sha256("pending")]);
    expect(created.body.version).toMatchObject({ state: "pending", version: null });
    expect((await server.api("GET", "/projects/twophase/versions?ref=ds:latest")).status).toBe(404);

    const early = await server.api("POST", `/projects/twophase/versions/${created.body.version.id}/commit`, {});
    expect(early.status).toBe(409);
    expect(early.body.error.field).toBe("blobs");

    expect((await upload("pending")).status).toBe(201);
    const committed = await server.api("POST", `/projects/twophase/versions/${created.body.version.id}/commit`, {});
    expect(committed.body).toMatchObject({ state: "committed", version: "v0", aliases: ["latest"] });
    expect((await server.api("GET", "/projects/twophase/versions?ref=ds")).body.id).toBe(created.body.version.id);
  });

  it("refuses bytes whose sha256 is not the one named, keeping nothing", async () => {
    const wrong = await upload("actual bytes", sha256("other bytes"));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.field).toBe("sha256");
    const manifest = [{ path: "o.txt", sha256: sha256("other bytes"), size: 11 }];
    const created = await server.api("POST", "/projects/mismatch/versions", { name: "ds", type: "dataset", manifest });
    expect(created.body.missingBlobs).toEqual([sha256("other bytes")]);
  });

  it("numbers 20 concurrent commits of different content v0..v19 with latest on v19", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => logVersion("concurrent", "shared-ds", `content ${index}`)),
    );
    expect(results.every((result) => result.status < 300)).toBe(true);
    const labels = results.map((result) => result.body.version).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
    expect(labels).toEqual(Array.from({ length: 20 }, (_, index) => `v${index}`));
    const artifact = await server.api("GET", "/projects/concurrent/artifacts/shared-ds");
    expect(artifact.body.versionCount).toBe(20);
    expect(artifact.body.versions[0]).toMatchObject({ version: "v19", aliases: ["latest"] });
    expect(
      artifact.body.versions.filter((version: { aliases: string[] }) => version.aliases.includes("latest")),
    ).toHaveLength(1);
  });

  it("makes 20 concurrent loggers of identical content one v0 with 20 producers", async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => server.api("POST", "/projects/same/runs", { jobType: "split" })),
    );
    const results = await Promise.all(
      runs.map((run) => logVersion("same", "split_zoo_dataset", "identical rows", { runId: run.body.id })),
    );
    expect(new Set(results.map((result) => result.body.id)).size).toBe(1);
    const details = await server.api("GET", `/projects/same/versions/${results[0]?.body.id}`);
    expect(details.body.version).toBe("v0");
    expect(details.body.producers.map((run: { id: string }) => run.id).sort()).toEqual(
      runs.map((run) => run.body.id).sort(),
    );
  });

  it("moves an alias between versions and answers it by ref", async () => {
    const v0 = await logVersion("aliases", "model", "weights 0", { aliases: ["best"] });
    const v1 = await logVersion("aliases", "model", "weights 1");
    const moved = await server.api("PUT", "/projects/aliases/artifacts/model/aliases/best", { version: "v1" });
    expect(moved.body).toMatchObject({ id: v1.body.id, aliases: ["latest", "best"] });
    expect((await server.api("GET", `/projects/aliases/versions/${v0.body.id}`)).body.aliases).toEqual([]);
    expect((await server.api("GET", "/projects/aliases/versions?ref=model:best")).body.id).toBe(v1.body.id);

    const latest = await server.api("PUT", "/projects/aliases/artifacts/model/aliases/latest", { version: "v0" });
    expect(latest.status).toBe(400);
    const vN = await server.api("PUT", "/projects/aliases/artifacts/model/aliases/v3", { version: "v0" });
    expect(vN.status).toBe(400);
    expect(vN.body.error.field).toBe("alias");

    expect((await server.api("DELETE", "/projects/aliases/artifacts/model/aliases/best")).status).toBe(204);
    expect((await server.api("GET", "/projects/aliases/versions?ref=model:best")).status).toBe(404);
  });

  it("refuses unsafe manifest paths with a 400 naming the entry", async () => {
    for (const path of ["../etc/passwd", "/abs", "a/../b", "nul\0byte", "win\\path"]) {
      const response = await server.api("POST", "/projects/unsafe/versions", {
        name: "ds",
        type: "dataset",
        manifest: [{ path, sha256: sha256("x"), size: 1 }],
      });
      expect(response.status).toBe(400);
      expect(response.body.error.field).toBe("manifest.0.path");
    }
  });
});
