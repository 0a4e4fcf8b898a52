import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, ConflictError, NotFoundError, Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let pd: Pedigree;
let workDir: string;

beforeAll(async () => {
  server = await startTestServer();
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
  workDir = await mkdtemp(join(tmpdir(), "pedigree-sdk-"));
});
afterAll(() => server.close());

async function datasetArtifact(content: string, name = "split_zoo_dataset") {
  const file = join(workDir, `${name}-${content.length}-${Math.random()}.csv`);
  await writeFile(file, content);
  const artifact = new Artifact({ name, type: "dataset", metadata: { rows: content.split("\n").length } });
  await artifact.addFile(file, { name: "train.csv" });
  return artifact;
}

describe("sdk: logging runs and artifacts", () => {
  it("logs a version, then the same content again as the same v0 with two producers", async () => {
    const first = await pd.init({ jobType: "split" });
    const v = await first.logArtifact(await datasetArtifact("a,b\n1,2\n"));
    expect(v.version).toBe("v0");
    expect(v.aliases).toEqual(["latest"]);
    await first.finish();

    const second = await pd.init({ jobType: "split" });
    const again = await second.logArtifact(await datasetArtifact("a,b\n1,2\n"));
    await second.finish();
    expect(again.id).toBe(v.id);
    expect(again.version).toBe("v0");
    const producers = await again.loggedBy();
    expect(producers.map((run) => run.id)).toEqual([first.id, second.id]);
  });

  it("numbers new content v1 and moves latest", async () => {
    const run = await pd.init({ jobType: "split" });
    const v1 = await run.logArtifact(await datasetArtifact("a,b\n1,2\n3,4\n"), { aliases: ["best"] });
    await run.finish();
    expect(v1.version).toBe("v1");
    expect(v1.aliases).toEqual(["latest", "best"]);
    expect((await pd.artifact("split_zoo_dataset")).id).toBe(v1.id);
    expect((await pd.artifact("split_zoo_dataset:v0")).version).toBe("v0");
    expect((await pd.artifact("split_zoo_dataset:best")).id).toBe(v1.id);
  });

  it("records the input edge with the ref asked for, and downloads verified files", async () => {
    const training = await pd.init({ jobType: "training", config: { lr: 0.01 } });
    const dataset = await training.useArtifact("split_zoo_dataset:v0", { type: "dataset" });
    const dir = await dataset.download(join(workDir, "download"));
    expect(await readFile(join(dir, "train.csv"), "utf8")).toBe("a,b\n1,2\n");
    await training.finish();

    const consumers = await dataset.usedBy();
    expect(consumers).toEqual([expect.objectContaining({ id: training.id, requestedRef: "split_zoo_dataset:v0" })]);
    const details = await pd.run(training.id);
    expect(details.state).toBe("finished");
    expect(details.config).toEqual({ lr: 0.01 });
    expect(details.inputs.map((input) => `${input.version.artifact}:${input.version.version}`)).toEqual([
      "split_zoo_dataset:v0",
    ]);
  });

  it("streams only the large blobs the server lacks", async () => {
    const run = await pd.init({ jobType: "training" });
    const uploaded: string[] = [];
    const shared = join(workDir, "shared.bin");
    await writeFile(shared, Buffer.alloc(200_000, 7));
    const model = new Artifact({ name: "zoo-model", type: "model" });
    await model.addFile(shared, { name: "model.bin" });
    await run.logArtifact(model, { onProgress: (progress) => uploaded.push(progress.path) });
    expect(new Set(uploaded)).toEqual(new Set(["model.bin"]));

    const extra = join(workDir, "notes.txt");
    await writeFile(extra, Buffer.alloc(100_000, 1));
    const next = new Artifact({ name: "zoo-model", type: "model" });
    await next.addFile(shared, { name: "model.bin" });
    await next.addFile(extra, { name: "notes.txt" });
    const uploadedAgain: string[] = [];
    const v1 = await run.logArtifact(next, { onProgress: (progress) => uploadedAgain.push(progress.path) });
    expect(new Set(uploadedAgain)).toEqual(new Set(["notes.txt"]));
    expect(v1.version).toBe("v1");
    const dir = await v1.download(join(workDir, "large"));
    expect((await readFile(join(dir, "model.bin"))).equals(Buffer.alloc(200_000, 7))).toBe(true);
    await run.finish();
  });

  it("keeps references without uploading them", async () => {
    const run = await pd.init({ jobType: "ingest" });
    const raw = new Artifact({ name: "raw-images", type: "dataset" });
    raw.addReference("s3://zoo-bucket/images/", { name: "images", checksum: "etag-1" });
    const v = await run.logArtifact(raw);
    await run.finish();
    const details = await v.fetchDetails();
    expect(details.manifest).toEqual([{ path: "images", uri: "s3://zoo-bucket/images/", checksum: "etag-1" }]);
  });

  it("refuses another type for an existing artifact name with a typed conflict", async () => {
    const run = await pd.init({ jobType: "training" });
    const wrong = await datasetArtifact("x", "zoo-model");
    await expect(run.logArtifact(wrong)).rejects.toBeInstanceOf(ConflictError);
    await expect(run.logArtifact(wrong)).rejects.toMatchObject({ status: 409, field: "type" });
    await run.finish();
  });

  it("answers a typed 404 naming the missing ref", async () => {
    const error = await pd.artifact("no-such-artifact:v3").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ field: "ref", message: expect.stringContaining("no-such-artifact") });
  });
});
