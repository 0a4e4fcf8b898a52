import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

const HOUR = 3_600_000;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let clockOffsetMs = 0;
const now = () => new Date(Date.now() + clockOffsetMs);
let server: TestServer;
beforeAll(async () => {
  // Pending versions (and upload proofs) live ten days, blobs get the default grace of 24 hours.
  server = await startTestServer({ clock: { now }, config: { pendingVersionTtlMs: 240 * HOUR } });
});
afterAll(() => server.close());

const blobFile = (s: TestServer, content: string) => {
  const hash = sha256(content);
  return join(s.dir, "blobs", hash.slice(0, 2), hash.slice(2, 4), hash);
};
const onDisk = (s: TestServer, content: string) =>
  access(blobFile(s, content)).then(
    () => true,
    () => false,
  );

async function upload(s: TestServer, content: string) {
  const response = await fetch(`${s.url}/api/v1/blobs/${sha256(content)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${s.apiKey}` },
    body: content,
  });
  return response.status;
}

async function logged(project: string, name: string, contents: string[]) {
  const response = await server.api("POST", `/projects/${project}/versions`, {
    name,
    type: "dataset",
    manifest: contents.map((content, i) => ({ path: `f${i}.txt`, sha256: sha256(content), size: content.length })),
    inlineBlobs: Object.fromEntries(contents.map((c) => [sha256(c), Buffer.from(c).toString("base64")])),
  });
  expect(response.status).toBe(201);
  return response.body.version as { id: string };
}

const gc = async (dryRun = false) => {
  const response = await server.api("POST", `/admin/gc${dryRun ? "?dryRun=true" : ""}`);
  expect(response.status).toBe(200);
  return response.body as { blobs: number; bytes: number; pendingVersions: number; dryRun: boolean };
};

describe("gc: unreferenced blobs after the grace period", () => {
  it("frees a deleted version's blobs only after the grace, keeping those a live version shares", async () => {
    const gone = await logged("gc", "a", ["only-in-deleted", "shared-by-both"]);
    await logged("gc", "b", ["shared-by-both"]);
    await server.api("DELETE", `/projects/gc/versions/${gone.id}`);

    expect((await gc()).blobs).toBe(0);
    expect(await onDisk(server, "only-in-deleted")).toBe(true);

    clockOffsetMs += 25 * HOUR;
    const dry = await gc(true);
    expect(dry).toMatchObject({ dryRun: true, blobs: 1, bytes: "only-in-deleted".length });
    expect(await onDisk(server, "only-in-deleted")).toBe(true);
    const freed = await gc();
    expect(freed).toMatchObject({ dryRun: false, blobs: 1, bytes: "only-in-deleted".length });
    expect(await onDisk(server, "only-in-deleted")).toBe(false);
    expect(await onDisk(server, "shared-by-both")).toBe(true);
    const shared = await server.api("GET", "/projects/gc/versions?ref=b");
    const file = await fetch(`${server.url}/api/v1/projects/gc/versions/${shared.body.id}/files?path=f0.txt`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    expect(await file.text()).toBe("shared-by-both");
    expect((await gc()).blobs).toBe(0);

    // Logging the freed content again asks for its bytes again.
    const again = await server.api("POST", "/projects/gc/versions", {
      name: "c",
      type: "dataset",
      manifest: [{ path: "x", sha256: sha256("only-in-deleted"), size: "only-in-deleted".length }],
    });
    expect(again.body.missingBlobs).toEqual([sha256("only-in-deleted")]);
  });

  it("keeps a blob uploaded for a version not committed yet, and sweeps the version once it is abandoned", async () => {
    const created = await server.api("POST", "/projects/gc/versions", {
      name: "pending",
      type: "dataset",
      manifest: [{ path: "p", sha256: sha256("pending-bytes"), size: "pending-bytes".length }],
    });
    expect(created.status).toBe(202);
    expect(await upload(server, "pending-bytes")).toBe(201);
    clockOffsetMs += 48 * HOUR;
    await gc();
    expect(await onDisk(server, "pending-bytes")).toBe(true);
    const committed = await server.api("POST", `/projects/gc/versions/${created.body.version.id}/commit`, {});
    expect(committed.status).toBe(200);

    const abandoned = await server.api("POST", "/projects/gc/versions", {
      name: "abandoned",
      type: "dataset",
      manifest: [{ path: "p", sha256: sha256("abandoned-bytes"), size: "abandoned-bytes".length }],
    });
    expect(await upload(server, "abandoned-bytes")).toBe(201);
    clockOffsetMs += 241 * HOUR;
    const swept = await gc();
    // This one, and the version the first test left waiting for its upload.
    expect(swept.pendingVersions).toBe(2);
    expect(swept.blobs).toBeGreaterThanOrEqual(1);
    expect(await onDisk(server, "abandoned-bytes")).toBe(false);
    const gone = await server.api("POST", `/projects/gc/versions/${abandoned.body.version.id}/commit`, {});
    expect(gone.status).toBe(404);
  });

  it("prints blobs and bytes with `pedigree gc --dry-run`, then frees them with `pedigree gc`", async () => {
    const v = await logged("gc-cli", "cli", ["cli-bytes-1", "cli-bytes-22"]);
    await server.api("DELETE", `/projects/gc-cli/versions/${v.id}`);
    clockOffsetMs += 25 * HOUR;
    const run = promisify(execFile);
    const env = { ...process.env, PEDIGREE_BASE_URL: server.url, PEDIGREE_API_KEY: server.apiKey };
    const cli = (...args: string[]) =>
      run(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "gc", ...args], { env });
    const dry = await cli("--dry-run");
    expect(dry.stdout).toContain("would free 2 blob(s), 23 B (23 bytes)");
    expect(await onDisk(server, "cli-bytes-1")).toBe(true);
    const real = await cli();
    expect(real.stdout).toContain("freed 2 blob(s), 23 B (23 bytes)");
    expect(await onDisk(server, "cli-bytes-1")).toBe(false);
  });

  it("is for server admins only", async () => {
    const { createMember } = await import("../fixtures/registry");
    const member = await createMember(server, "gc-member");
    const refused = await server.api("POST", "/admin/gc", undefined, member);
    expect(refused.status).toBe(403);
  });
});

describe("gc: safe beside uploads and commits", () => {
  it("never leaves a committed version without its blobs while gc runs in a loop beside 20 loggers", async () => {
    // No grace: every blob nothing references at the moment is fair game.
    const busy = await startTestServer({ config: { gcGraceMs: 0 } });
    let logging = true;
    let collector: Promise<void> = Promise.resolve();
    try {
      let collections = 0;
      let freed = 0;
      collector = (async () => {
        while (logging) {
          const response = await busy.api("POST", "/admin/gc");
          expect(response.status).toBe(200);
          collections++;
          freed += response.body.blobs;
        }
      })();
      const logOnce = async (worker: number, contents: string[]): Promise<string> => {
        const manifest = contents.map((c, i) => ({ path: `f${i}`, sha256: sha256(c), size: c.length }));
        const created = await busy.api("POST", "/projects/gc-race/versions", {
          name: `w${worker}`,
          type: "dataset",
          manifest,
        });
        if (created.status === 201) return created.body.version.id;
        expect(created.status).toBe(202);
        const byHash = new Map(contents.map((c) => [sha256(c), c]));
        for (const hash of created.body.missingBlobs) expect(await upload(busy, byHash.get(hash) as string)).toBe(201);
        const commit = await busy.api("POST", `/projects/gc-race/versions/${created.body.version.id}/commit`, {});
        expect(commit.status).toBe(200);
        return commit.body.id;
      };
      const logger = async (worker: number) => {
        for (let round = 0; round < 10; round++) {
          // Content shared between loggers and rounds, so blobs are dropped by one and taken by another.
          const contents = [`shared-${round % 3}`, `worker-${worker % 4}`, `own-${worker}-${round}`];
          const first = await logOnce(worker, contents);
          // Deleted, its blobs are garbage (unless shared) that the next log of the same content takes again.
          expect((await busy.api("DELETE", `/projects/gc-race/versions/${first}`)).status).toBe(200);
          // At any point of a collection running meanwhile.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
          const again = await logOnce(worker, contents);
          if (round % 2 === 0) {
            expect((await busy.api("DELETE", `/projects/gc-race/versions/${again}`)).status).toBe(200);
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, (_, worker) => logger(worker)));
      logging = false;
      await collector;
      expect(collections).toBeGreaterThan(1);
      expect(freed).toBeGreaterThan(0);
      await busy.api("POST", "/admin/gc");

      // Every live committed version still has every file, byte for byte.
      let checked = 0;
      const artifacts = await busy.api("GET", "/projects/gc-race/artifacts");
      for (const { name } of artifacts.body.artifacts) {
        const details = await busy.api("GET", `/projects/gc-race/artifacts/${name}`);
        for (const version of details.body.versions.filter((v: { deleted?: true }) => !v.deleted)) {
          const full = await busy.api("GET", `/projects/gc-race/versions/${version.id}`);
          for (const entry of full.body.manifest) {
            const response = await fetch(
              `${busy.url}/api/v1/projects/gc-race/versions/${version.id}/files?path=${entry.path}`,
              { headers: { authorization: `Bearer ${busy.apiKey}` } },
            );
            expect(response.status).toBe(200);
            expect(sha256(await response.text())).toBe(entry.sha256);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThanOrEqual(20 * 3 * 3);
    } finally {
      logging = false;
      await collector.catch(() => {});
      await busy.close();
    }
  }, 240_000);
});
