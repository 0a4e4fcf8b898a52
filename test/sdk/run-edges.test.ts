import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, ConflictError, Pedigree, syncSpool } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

/** A finished run refuses new inputs and outputs: the SDK says so with a ConflictError, and a spool parks them. */
let server: TestServer;
let workDir: string;

beforeAll(async () => {
  server = await startTestServer();
  workDir = await mkdtemp(join(tmpdir(), "pedigree-sdk-edges-"));
  const seed = client(join(workDir, "seed"));
  const run = await seed.init({ jobType: "seed" });
  await run.logArtifact(await fileArtifact("raw", "dataset", "rows"));
  await run.finish();
});
afterAll(async () => {
  await server.close();
  await rm(workDir, { recursive: true, force: true });
});

const client = (pedigreeDir: string, options: { mode?: "online" | "offline" } = {}) =>
  new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "ended", pedigreeDir, ...options });

async function fileArtifact(name: string, type: string, content: string) {
  const file = join(workDir, `${name}-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, content);
  const artifact = new Artifact({ name, type });
  await artifact.addFile(file, { name: "data.bin" });
  return artifact;
}

describe("sdk: a run that has ended", () => {
  it("throws a ConflictError naming the state for an input or output of a run finished elsewhere", async () => {
    const pd = client(join(workDir, "online"));
    const run = await pd.init({ jobType: "training" });
    await server.api("PATCH", `/projects/ended/runs/${run.id}`, { state: "finished" });
    const used = run.useArtifact("raw:v0");
    await expect(used).rejects.toBeInstanceOf(ConflictError);
    await expect(used).rejects.toMatchObject({ status: 409, field: "runId" });
    await expect(used).rejects.toThrow(`run '${run.id}' is finished since`);
    const logged = run.logArtifact(await fileArtifact("late", "model", "weights"));
    await expect(logged).rejects.toBeInstanceOf(ConflictError);
    expect(await run.finish()).toMatchObject({ queued: 0 });
    const details = await pd.run(run.id);
    expect({ inputs: details.inputs, outputs: details.outputs }).toEqual({ inputs: [], outputs: [] });
  });

  it("parks a replayed input and output of a finished run in rejected.jsonl, and still sends the rest", async () => {
    const pedigreeDir = join(workDir, "offline");
    const offline = client(pedigreeDir, { mode: "offline" });
    const run = await offline.init({ jobType: "training" });
    await expect(run.useArtifact("raw:v0")).rejects.toMatchObject({ code: "NETWORK" });
    await run.logArtifact(await fileArtifact("queued-model", "model", "queued weights"));
    expect((await run.finish("failed")).queued).toBe(4);
    // Meanwhile the run was made and finished on the server (another process with the same id).
    expect((await server.api("POST", "/projects/ended/runs", { id: run.id, jobType: "training" })).status).toBe(201);
    expect((await server.api("PATCH", `/projects/ended/runs/${run.id}`, { state: "finished" })).status).toBe(200);

    const [synced] = await syncSpool({ pedigreeDir, apiKey: server.apiKey });
    // Only the run's creation goes through: the server refuses the rest for good, and they are parked.
    expect(synced).toMatchObject({ runId: run.id, sent: 1, left: 0 });
    expect(synced?.rejected).toHaveLength(3);
    expect(synced?.rejected[0]).toMatch(
      /^useArtifact: CONFLICT: run '[a-z0-9]{8}' is finished since .*: it takes no new/,
    );
    expect(synced?.rejected[1]).toMatch(/^logArtifact: CONFLICT: run '[a-z0-9]{8}' is finished since/);
    expect(synced?.rejected[2]).toMatch(/^updateRun: CONFLICT: run '[a-z0-9]{8}' is finished, which is final/);
    const parked = await readFile(join(pedigreeDir, "spool", run.id, "rejected.jsonl"), "utf8");
    expect(parked.trim().split("\n")).toHaveLength(3);
    const details = await client(pedigreeDir).run(run.id);
    expect({ state: details.state, inputs: details.inputs, outputs: details.outputs }).toEqual({
      state: "finished",
      inputs: [],
      outputs: [],
    });
  });
});
