import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, ConflictError, GoneError, Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let pd: Pedigree;
let workDir: string;
beforeAll(async () => {
  server = await startTestServer();
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "sdk-del", pedigreeDir: server.dir });
  workDir = await mkdtemp(join(tmpdir(), "pedigree-sdk-del-"));
});
afterAll(() => server.close());

async function artifact(name: string, content: string) {
  const file = join(workDir, `${name}-${Math.random()}.txt`);
  await writeFile(file, content);
  const made = new Artifact({ name, type: "dataset" });
  await made.addFile(file, { name: "data.txt" });
  return made;
}

describe("sdk: delete and retention", () => {
  it("deletes a version with version.delete(): later uses and downloads fail with a GoneError", async () => {
    const run = await pd.init({ jobType: "prep" });
    const v0 = await run.logArtifact(await artifact("sdk-ds", "zero"));
    const v1 = await run.logArtifact(await artifact("sdk-ds", "one"), { ttl: "30d" });
    await run.finish();
    expect((await v1.fetchDetails()).expiresAt).toEqual(expect.any(String));

    expect(await v1.delete()).toEqual({ deleted: [v1.id], unlinked: [], aliasesRemoved: [] });
    const tombstone = await pd.artifact(v1.id);
    expect(await tombstone.fetchDetails()).toMatchObject({ deleted: true, deletion: { reason: "deleted" } });
    await expect(v1.download(join(workDir, "gone"))).rejects.toBeInstanceOf(GoneError);
    const user = await pd.init({ jobType: "train" });
    await expect(user.useArtifact("sdk-ds:v1")).rejects.toBeInstanceOf(GoneError);
    expect((await user.useArtifact("sdk-ds")).id).toBe(v0.id);
    await user.finish();
  });

  it("keeps a version for good with setTtl(null), and refuses to delete a linked one without unlink", async () => {
    const run = await pd.init({ jobType: "prep" });
    const v = await run.logArtifact(await artifact("sdk-linked", "linked"), { ttl: "1d" });
    expect((await v.setTtl(null)).expiresAt).toBeUndefined();
    await pd.createRegistry({ name: "sdk-models" });
    await run.linkArtifact(v, "sdk-models/zoo");
    await run.finish();
    await expect(v.delete()).rejects.toBeInstanceOf(ConflictError);
    expect((await v.delete({ unlink: true })).unlinked).toEqual([
      { registry: "sdk-models", collection: "zoo", version: "v0" },
    ]);
  });

  it("deletes a run and an artifact, and collects garbage", async () => {
    const run = await pd.init({ jobType: "scratch" });
    await run.logArtifact(await artifact("sdk-scratch", "s0"));
    await run.logArtifact(await artifact("sdk-scratch", "s1"));
    await run.finish();
    expect((await pd.deleteArtifact("sdk-scratch")).deleted).toHaveLength(2);
    expect(await pd.deleteRun(run.id)).toMatchObject({ id: run.id, deleted: true });
    expect(await pd.collectGarbage({ dryRun: true })).toMatchObject({ dryRun: true, blobs: 0 });
  });
});
