import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  const lab = lineageBuilder(server, "lists");
  for (let index = 0; index < 30; index++) {
    const run = await lab.run(index % 3 === 0 ? "eval" : "training", `run-${String(index).padStart(2, "0")}`);
    if (index < 3) await lab.log(run, `code-${index}`, "code", { generated: true });
  }
  await lab.log(undefined, "cifar-train", "dataset");
  await lab.log(undefined, "cifar-test", "dataset");
});
afterAll(() => server.close());

describe("lists: runs", () => {
  it("pages by offset with the total over all pages", async () => {
    const { status, body } = await server.api("GET", "/projects/lists/runs?limit=25&offset=25");
    expect(status).toBe(200);
    expect(body.total).toBe(30);
    expect(body.runs.map((run: { name: string }) => run.name)).toEqual([
      "run-04",
      "run-03",
      "run-02",
      "run-01",
      "run-00",
    ]);
  });

  it("searches by name and filters by job type and state", async () => {
    const { body } = await server.api("GET", "/projects/lists/runs?q=RUN-1&jobType=eval");
    expect(body.runs.map((run: { name: string }) => run.name)).toEqual(["run-18", "run-15", "run-12"]);
    expect(body.total).toBe(3);
    const finished = await server.api("GET", "/projects/lists/runs?state=finished");
    expect(finished.body.total).toBe(0);
  });
});

describe("lists: artifacts", () => {
  it("hides artifacts that hold only generated versions unless asked, with a total", async () => {
    const { body } = await server.api("GET", "/projects/lists/artifacts");
    expect(body.artifacts.map((artifact: { name: string }) => artifact.name)).toEqual(["cifar-test", "cifar-train"]);
    expect(body.total).toBe(2);
    const all = await server.api("GET", "/projects/lists/artifacts?includeGenerated=true&limit=2&offset=1");
    expect(all.body.total).toBe(5);
    expect(all.body.artifacts.map((artifact: { name: string }) => artifact.name)).toEqual(["cifar-train", "code-0"]);
  });

  it("searches by name", async () => {
    const { body } = await server.api("GET", "/projects/lists/artifacts?q=TRAIN");
    expect(body.artifacts.map((artifact: { name: string }) => artifact.name)).toEqual(["cifar-train"]);
  });
});
