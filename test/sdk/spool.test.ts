import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, Pedigree, syncSpool } from "@pedigree/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabaseUrl, testDatabaseKind } from "../fixtures/server";
import { freePort, type ServerProcess, startServerProcess } from "../fixtures/server-process";

const apiKey = "pdg_fault_tests_key";
let dir: string;
let databaseUrl: string | undefined;
let dropDatabase: () => Promise<void>;
let port: number;
let server: ServerProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pedigree-faults-"));
  port = await freePort();
  if (testDatabaseKind() === "postgres") {
    const database = await createTestDatabaseUrl();
    databaseUrl = database.url;
    dropDatabase = database.drop;
  } else {
    databaseUrl = undefined;
    dropDatabase = async () => {};
  }
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  await dropDatabase();
  await rm(dir, { recursive: true, force: true });
});

const startServer = async () => {
  server = await startServerProcess({ dir: join(dir, "server"), databaseUrl, port, apiKey });
  return server;
};
const client = (options: { mode?: "online" | "offline" } = {}) =>
  new Pedigree({
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    project: "faults",
    pedigreeDir: join(dir, "client"),
    maxBlockMs: 1_500,
    finishTimeoutMs: 20_000,
    retries: 1,
    ...options,
  });

async function fileArtifact(name: string, type: string, content: string | Buffer) {
  const file = join(dir, `${name}-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, content);
  const artifact = new Artifact({ name, type });
  await artifact.addFile(file, { name: "data.bin" });
  return artifact;
}

/** What the server knows of a run: its state, and its inputs and outputs as `name:vN`. */
async function lineageOf(pd: Pedigree, runId: string) {
  const run = await pd.run(runId);
  return {
    state: run.state,
    inputs: run.inputs.map((input) => `${input.version.artifact}:${input.version.version}`).sort(),
    outputs: run.outputs.map((output) => `${output.artifact}:${output.version}`).sort(),
  };
}

describe("sdk: nothing logged is lost", () => {
  it("keeps a run going through a server killed mid-run, and delivers everything after the restart", async () => {
    await startServer();
    const pd = client();
    const seed = await pd.init({ jobType: "seed" });
    await seed.logArtifact(await fileArtifact("raw", "dataset", "raw rows"));
    await seed.finish();

    const run = await pd.init({ jobType: "training" });
    await run.useArtifact("raw:v0");
    await server?.kill();

    const started = Date.now();
    const model = await run.logArtifact(await fileArtifact("model", "model", Buffer.alloc(300_000, 3)));
    expect(model.queued).toBe(true);
    const use = run.useArtifact("raw:latest");
    await expect(use).rejects.toMatchObject({
      code: "NETWORK",
      field: "ref",
      message: expect.stringContaining("queued"),
    });
    expect(Date.now() - started).toBeLessThan(8_000);

    await startServer();
    const result = await run.finish();
    expect(result.queued).toBe(0);
    expect(await lineageOf(pd, run.id)).toEqual({ state: "finished", inputs: ["raw:v0"], outputs: ["model:v0"] });
    const [version] = (await pd.artifactVersions("model")).versions;
    expect(version).toMatchObject({ version: "v0", size: 300_000 });
  });

  it("logs only to the spool offline, and `sync` sends it in order", async () => {
    await startServer();
    const online = client();
    const seed = await online.init({ jobType: "seed" });
    await seed.logArtifact(await fileArtifact("raw", "dataset", "rows"));
    await seed.finish();

    const offline = client({ mode: "offline" });
    const run = await offline.init({ jobType: "training" });
    await expect(run.useArtifact("raw:v0")).rejects.toMatchObject({ code: "NETWORK" });
    await run.logArtifact(await fileArtifact("model", "model", "weights"));
    const finished = await run.finish();
    expect(finished.queued).toBe(4);
    await expect(online.run(run.id)).rejects.toMatchObject({ status: 404 });

    const dryRun = await syncSpool({ pedigreeDir: join(dir, "client"), apiKey, dryRun: true });
    expect(dryRun).toEqual([expect.objectContaining({ runId: run.id, sent: 4, rejected: [] })]);
    const synced = await syncSpool({ pedigreeDir: join(dir, "client"), apiKey });
    expect(synced).toEqual([expect.objectContaining({ runId: run.id, sent: 4, left: 0, rejected: [] })]);
    expect(await lineageOf(online, run.id)).toEqual({ state: "finished", inputs: ["raw:v0"], outputs: ["model:v0"] });
    expect(await syncSpool({ pedigreeDir: join(dir, "client"), apiKey })).toEqual([]);
  });

  it("finishes with `sync` what an SDK process killed mid-upload left behind", async () => {
    await startServer();
    const big = join(dir, "big.bin");
    await writeFile(big, Buffer.alloc(40 * 1024 * 1024, 9));
    const script = `
      import { Artifact, Pedigree } from "@pedigree/sdk";
      const pd = new Pedigree({ baseUrl: "http://127.0.0.1:${port}", apiKey: "${apiKey}", project: "faults", pedigreeDir: ${JSON.stringify(join(dir, "client"))} });
      const run = await pd.init({ jobType: "training" });
      console.log("RUN " + run.id);
      const model = new Artifact({ name: "big-model", type: "model" });
      await model.addFile(${JSON.stringify(big)});
      let told = false;
      await run.logArtifact(model, { onProgress: () => { if (!told) { told = true; console.log("UPLOADING"); } } });
      console.log("DONE");`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let runId = "";
    let sawDone = false;
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        runId ||= /RUN (\w+)/.exec(text)?.[1] ?? "";
        if (text.includes("DONE")) sawDone = true;
        if (text.includes("UPLOADING")) child.kill("SIGKILL");
      });
      child.once("exit", () => resolve());
    });
    expect(sawDone).toBe(false);
    const pd = client();
    expect((await lineageOf(pd, runId)).outputs).toEqual([]);

    const synced = await syncSpool({ pedigreeDir: join(dir, "client"), apiKey });
    expect(synced).toEqual([expect.objectContaining({ runId, left: 0, rejected: [] })]);
    expect(await lineageOf(pd, runId)).toEqual({ state: "running", inputs: [], outputs: ["big-model:v0"] });
  });
});
