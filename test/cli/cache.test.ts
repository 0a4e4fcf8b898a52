import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Artifact, Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

const run = promisify(execFile);
let server: TestServer;
let pedigreeDir: string;

/** The real `pedigree` command in its own process, with the user's PEDIGREE_DIR. */
async function pedigree(...args: string[]) {
  const env = {
    ...process.env,
    PEDIGREE_BASE_URL: server.url,
    PEDIGREE_API_KEY: server.apiKey,
    PEDIGREE_DIR: pedigreeDir,
  };
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", ...args], { env });
    return { code: 0, stdout, stderr: "" };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  server = await startTestServer();
  pedigreeDir = await mkdtemp(join(tmpdir(), "pedigree-cli-cache-"));
  const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "cli-cache", pedigreeDir });
  const logRun = await pd.init({ jobType: "log" });
  for (const [name, size] of [
    ["old", 300_000],
    ["new", 200_000],
  ] as const) {
    const file = join(pedigreeDir, `${name}.bin`);
    await writeFile(file, randomBytes(size));
    const artifact = new Artifact({ name, type: "dataset" });
    await artifact.addFile(file);
    await logRun.logArtifact(artifact);
  }
  await logRun.finish();
  // Downloaded oldest first: `old` is the least recently used.
  await mkdir(join(pedigreeDir, "out"));
  await (await pd.artifact("old:v0")).download(join(pedigreeDir, "out", "old"));
  await (await pd.artifact("new:v0")).download(join(pedigreeDir, "out", "new"));
});
afterAll(async () => {
  await server?.close();
  await rm(pedigreeDir, { recursive: true, force: true });
});

describe("cli: pedigree cache", () => {
  it("info tells what the cache holds and its bound", async () => {
    const { code, stdout } = await pedigree("cache", "info", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      dir: join(pedigreeDir, "cache"),
      blobs: 2,
      bytes: 500_000,
      maxBytes: 10_000_000_000,
      refs: 0,
    });
    expect((await pedigree("cache", "info")).stdout).toMatch(/size\s+500\.0 kB \(500000 bytes\)/);
  });

  it("cleanup --max-size evicts the least recently used files down to the size", async () => {
    expect(JSON.parse((await pedigree("cache", "cleanup", "--max-size", "10GB", "--json")).stdout)).toEqual({
      removedBlobs: 0,
      freedBytes: 0,
      blobs: 2,
      bytes: 500_000,
    });
    const { code, stdout } = await pedigree("cache", "cleanup", "--max-size", "250kB");
    expect(code).toBe(0);
    expect(stdout).toContain("removed 1 file(s), 300.0 kB (300000 bytes); the cache holds 1 file(s), 200.0 kB");
    expect(JSON.parse((await pedigree("cache", "info", "--json")).stdout)).toMatchObject({ blobs: 1, bytes: 200_000 });
  });

  it("refuses a size it cannot read, and an unknown action", async () => {
    const bad = await pedigree("cache", "cleanup", "--max-size", "lots");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--max-size takes a size such as 10GB, 512MiB or 0, not 'lots'");
    expect((await pedigree("cache", "shrink")).code).toBe(2);
  });

  it("download places read-only hard links to the cache, or editable copies with --copy", async () => {
    const linked = await pedigree("download", "new:v0", join(pedigreeDir, "cli-linked"), "--project", "cli-cache");
    expect(linked.code, linked.stderr).toBe(0);
    const copied = await pedigree(
      "download",
      "new:v0",
      join(pedigreeDir, "cli-copied"),
      "--project",
      "cli-cache",
      "--copy",
    );
    expect(copied.code, copied.stderr).toBe(0);
    const link = statSync(join(pedigreeDir, "cli-linked", "new.bin"));
    const copy = statSync(join(pedigreeDir, "cli-copied", "new.bin"));
    expect(link.nlink).toBeGreaterThanOrEqual(2);
    expect(link.mode & 0o777).toBe(0o444);
    expect(copy.ino).not.toBe(link.ino);
    expect(copy.mode & 0o200).toBe(0o200);
    expect(copy.size).toBe(200_000);
  });
});
