import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markSilentRunsCrashed } from "../../packages/server/src/runs/service";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * A run's lineage grows only while it runs: finished and failed runs refuse new input and output edges
 * (409 naming the state), a run the server marked crashed resumes when it writes again.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  for (const content of ["a", "b", "c"]) {
    const logged = await server.api("POST", "/projects/edges/versions", {
      name: "raw",
      type: "dataset",
      manifest: [{ path: "data.bin", uri: `s3://bucket/${content}` }],
    });
    expect(logged.status).toBe(201);
  }
});
afterAll(() => server.close());

const startRun = async (jobType = "training") => {
  const run = await server.api("POST", "/projects/edges/runs", { jobType });
  expect(run.status).toBe(201);
  return run.body.id as string;
};
const endRun = async (runId: string, state: "finished" | "failed") => {
  expect((await server.api("PATCH", `/projects/edges/runs/${runId}`, { state })).status).toBe(200);
};
const details = async (runId: string) => (await server.api("GET", `/projects/edges/runs/${runId}`)).body;
const manifestOf = (content: string) => [{ path: "model.bin", uri: `s3://bucket/model-${content}` }];

function expectRefused(response: Awaited<ReturnType<TestServer["api"]>>, state: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(409);
  expect(response.body.error).toMatchObject({ code: "CONFLICT", field: "runId" });
  expect(response.body.error.message).toMatch(new RegExp(`^run '[a-z0-9]{8}' is ${state} since .*: it takes no new`));
}

describe("runs: edges of a run that has ended", () => {
  it("refuses a new input of a finished run with a 409 naming its state, and records nothing", async () => {
    const runId = await startRun();
    expect((await server.api("POST", `/projects/edges/runs/${runId}/inputs`, { ref: "raw:v0" })).status).toBe(200);
    await endRun(runId, "finished");
    expectRefused(await server.api("POST", `/projects/edges/runs/${runId}/inputs`, { ref: "raw:v1" }), "finished");
    const run = await details(runId);
    expect(run.state).toBe("finished");
    expect(run.inputs.map((input: { requestedRef: string }) => input.requestedRef)).toEqual(["raw:v0"]);
  });

  it("refuses a version logged with the runId of a failed run, and creates no version", async () => {
    const runId = await startRun();
    await endRun(runId, "failed");
    const refused = await server.api("POST", "/projects/edges/versions", {
      name: "late-model",
      type: "model",
      manifest: manifestOf("late"),
      runId,
    });
    expectRefused(refused, "failed");
    expect((await server.api("GET", "/projects/edges/versions?ref=late-model")).status).toBe(404);
    expect((await details(runId)).outputs).toEqual([]);
  });

  it("refuses an identical version logged again as one more output of a finished run", async () => {
    const runId = await startRun();
    await endRun(runId, "finished");
    const again = await server.api("POST", "/projects/edges/versions", {
      name: "raw",
      type: "dataset",
      manifest: [{ path: "data.bin", uri: "s3://bucket/a" }],
      runId,
    });
    expectRefused(again, "finished");
    expect((await details(runId)).outputs).toEqual([]);
  });

  it("refuses the commit of a pending version with the runId of a run that finished meanwhile", async () => {
    const runId = await startRun();
    const content = `pending-${runId}`;
    const sha256 = (await import("node:crypto")).createHash("sha256").update(content).digest("hex");
    const created = await server.api("POST", "/projects/edges/versions", {
      name: "weights",
      type: "model",
      manifest: [{ path: "w.bin", sha256, size: content.length }],
      runId,
    });
    expect(created.status).toBe(202);
    expect(created.body.missingBlobs).toEqual([sha256]);
    const upload = await fetch(`${server.url}/api/v1/blobs/${sha256}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${server.apiKey}` },
      body: content,
    });
    expect(upload.ok).toBe(true);
    await endRun(runId, "finished");
    const commit = await server.api("POST", `/projects/edges/versions/${created.body.version.id}/commit`, {
      runId,
    });
    expectRefused(commit, "finished");
    expect((await server.api("GET", "/projects/edges/versions?ref=weights")).status).toBe(404);
  });

  it("keeps finished and failed final: saying it again is fine, reopening is a 409", async () => {
    const runId = await startRun();
    await endRun(runId, "finished");
    const again = await server.api("PATCH", `/projects/edges/runs/${runId}`, { state: "finished" });
    expect(again.status).toBe(200);
    const reopened = await server.api("PATCH", `/projects/edges/runs/${runId}`, { state: "running" });
    expect(reopened.status).toBe(409);
    expect(reopened.body.error).toMatchObject({ code: "CONFLICT", field: "runId" });
    expect(reopened.body.error.message).toContain("is finished, which is final");
    expect((await server.api("PATCH", `/projects/edges/runs/${runId}`, { state: "failed" })).status).toBe(409);
    // A heartbeat or a summary after the end changes no state.
    const late = await server.api("PATCH", `/projects/edges/runs/${runId}`, { heartbeat: true, summary: { acc: 1 } });
    expect(late.status).toBe(200);
    expect(late.body.state).toBe("finished");
  });

  it("answers 404 for the edge of a run that does not exist, before the ref", async () => {
    const missing = await server.api("POST", "/projects/edges/runs/nosuchrn/inputs", { ref: "nothing:v9" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.field).toBe("runId");
  });

  it("lets a finish and concurrent inputs race: each input is either recorded or refused, none after the end", async () => {
    const runId = await startRun();
    const inputs = ["raw:v0", "raw:v1", "raw:v2", "raw:latest"].map((ref) =>
      server.api("POST", `/projects/edges/runs/${runId}/inputs`, { ref }),
    );
    const finish = server.api("PATCH", `/projects/edges/runs/${runId}`, { state: "finished" });
    const answers = await Promise.all(inputs);
    expect((await finish).status).toBe(200);
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    const run = await details(runId);
    const accepted = new Set(answers.filter((answer) => answer.status === 200).map((answer) => answer.body.id));
    expect(new Set(run.inputs.map((input: { version: { id: string } }) => input.version.id))).toEqual(accepted);
    for (const input of run.inputs) expect(Date.parse(input.usedAt)).toBeLessThanOrEqual(Date.parse(run.finishedAt));
    expectRefused(await server.api("POST", `/projects/edges/runs/${runId}/inputs`, { ref: "raw:v0" }), "finished");
  });
});

describe("runs: a run marked crashed comes back", () => {
  const markCrashed = () =>
    server.database.transaction((tx) => markSilentRunsCrashed(tx, new Date(Date.now() + 60_000)));

  it("resumes a crashed run on its next input or output, as a replayed spool sends them", async () => {
    const runId = await startRun();
    expect(await markCrashed()).toBeGreaterThanOrEqual(1);
    expect((await details(runId)).state).toBe("crashed");
    const used = await server.api("POST", `/projects/edges/runs/${runId}/inputs`, { ref: "raw:v2" });
    expect(used.status).toBe(200);
    expect(await details(runId)).toMatchObject({ state: "running", finishedAt: null });
    await markCrashed();
    const logged = await server.api("POST", "/projects/edges/versions", {
      name: "resumed-model",
      type: "model",
      manifest: manifestOf(runId),
      runId,
    });
    expect(logged.status).toBe(201);
    const run = await details(runId);
    expect(run).toMatchObject({ state: "running", finishedAt: null });
    expect(run.outputs.map((output: { artifact: string }) => output.artifact)).toEqual(["resumed-model"]);
    await endRun(runId, "finished");
    expect((await details(runId)).state).toBe("finished");
  });

  it("resumes a crashed run on a heartbeat, and lets a crashed run be ended", async () => {
    const runId = await startRun();
    await markCrashed();
    const beat = await server.api("PATCH", `/projects/edges/runs/${runId}`, { heartbeat: true });
    expect(beat.body).toMatchObject({ state: "running", finishedAt: null });
    await markCrashed();
    const ended = await server.api("PATCH", `/projects/edges/runs/${runId}`, { state: "failed" });
    expect(ended.status).toBe(200);
    expect(ended.body.state).toBe("failed");
    expect(ended.body.finishedAt).not.toBeNull();
  });
});
