import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("runs", () => {
  it("generates adjective-noun-N display names numbered per project", async () => {
    const first = await server.api("POST", "/projects/names/runs", { jobType: "training" });
    const second = await server.api("POST", "/projects/names/runs", { jobType: "eval" });
    expect(first.status).toBe(201);
    expect(first.body.name).toMatch(/^[a-z]+-[a-z]+-1$/);
    expect(second.body.name).toMatch(/^[a-z]+-[a-z]+-2$/);
    expect(first.body.id).toMatch(/^[a-z0-9]{8}$/);
    expect(first.body.state).toBe("running");
  });

  it("answers the same run when a create with a client id is retried", async () => {
    const body = { id: "retry001", jobType: "training", config: { lr: 0.1 } };
    const first = await server.api("POST", "/projects/retry/runs", body);
    const again = await server.api("POST", "/projects/retry/runs", body);
    expect(again.body).toEqual(first.body);
    const list = await server.api("GET", "/projects/retry/runs");
    expect(list.body.runs).toHaveLength(1);
  });

  it("finishes a run and keeps its config", async () => {
    const run = await server.api("POST", "/projects/finish/runs", { jobType: "training", config: { epochs: 3 } });
    const finished = await server.api("PATCH", `/projects/finish/runs/${run.body.id}`, { state: "finished" });
    expect(finished.body.state).toBe("finished");
    expect(finished.body.finishedAt).not.toBeNull();
    const details = await server.api("GET", `/projects/finish/runs/${run.body.id}`);
    expect(details.body.config).toEqual({ epochs: 3 });
  });

  it("refuses a bad job type with a 400 naming the field, and creates nothing", async () => {
    const response = await server.api("POST", "/projects/bad/runs", { jobType: "no spaces allowed" });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BAD_REQUEST", field: "jobType" });
    expect((await server.api("GET", "/projects/bad/runs")).status).toBe(404);
  });

  it("lists projects with their run and artifact counts", async () => {
    await server.api("POST", "/projects/counted/runs", { jobType: "training" });
    await server.api("POST", "/projects/counted/runs", { jobType: "training" });
    await server.api("POST", "/projects/counted/versions", {
      name: "refs",
      type: "dataset",
      manifest: [{ path: "a", uri: "s3://bucket/a" }],
    });
    const { body } = await server.api("GET", "/projects");
    expect(body.projects).toContainEqual(expect.objectContaining({ name: "counted", runCount: 2, artifactCount: 1 }));
  });

  it("refuses requests without a valid key", async () => {
    const response = await server.api("GET", "/projects", undefined, "pdg_not-a-key");
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("UNAUTHORIZED");
  });
});

describe("embedded database", () => {
  it("refuses a second server on a data directory in use, and opens it once the first has closed", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { openPglite } = await import("@pedigree/server");
    const dir = await mkdtemp(join(tmpdir(), "pedigree-lock-"));
    const first = await openPglite(dir);
    await expect(openPglite(dir)).rejects.toThrow(/in use by process/);
    await first.close();
    const second = await openPglite(dir);
    await second.close();
    await rm(dir, { recursive: true, force: true });
  });
});
