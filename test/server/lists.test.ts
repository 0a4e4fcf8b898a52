import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { createMember } from "../fixtures/registry";
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

describe("search", () => {
  it("finds runs, artifacts and versions by the start of their name, ignoring case, with totals", async () => {
    const { status, body } = await server.api("GET", "/search?q=CIFAR");
    expect(status).toBe(200);
    expect(body.totals).toEqual({ run: 0, artifact: 2, version: 2, collection: 0 });
    expect(body.hits.map((hit: { kind: string; name: string }) => `${hit.kind}:${hit.name}`)).toEqual([
      "artifact:cifar-test",
      "artifact:cifar-train",
      "version:cifar-test:v0",
      "version:cifar-train:v0",
    ]);
    const runs = await server.api("GET", "/search?q=run-2&kinds=run&limit=3");
    expect(runs.body.totals.run).toBe(10);
    expect(runs.body.hits).toHaveLength(3);
    expect(runs.body.hits[0]).toMatchObject({ kind: "run", scope: "lists", type: expect.any(String) });
  });

  it("answers a reader only the projects it has a role in", async () => {
    const key = await createMember(server, "outsider");
    const none = await server.api("GET", "/search?q=cifar", undefined, key);
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ totals: { run: 0, artifact: 0, version: 0, collection: 0 }, hits: [] });
    expect((await server.api("PUT", "/projects/lists/members/outsider", { role: "viewer" })).status).toBe(200);
    const some = await server.api("GET", "/search?q=cifar&kinds=artifact", undefined, key);
    expect(some.body.totals.artifact).toBe(2);
  });

  it("answers 400 naming q when it is missing", async () => {
    const { status, body } = await server.api("GET", "/search");
    expect(status).toBe(400);
    expect(body.error.field).toBe("q");
  });
});

describe("lists: a version's runs and an artifact's versions", () => {
  it("pages 'used by' with the total, newest use first, searchable by run name", async () => {
    const lab = lineageBuilder(server, "usedby");
    const hub = await lab.log(undefined, "hub", "dataset");
    const users: string[] = [];
    for (let index = 0; index < 7; index++) {
      const run = await lab.run(index < 5 ? "eval" : "training", `user-${index}`);
      await lab.use(run, "hub");
      users.push(run);
    }
    const page = await server.api("GET", `/projects/usedby/versions/${hub}/consumers?limit=3&offset=3`);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(7);
    expect(page.body.runs.map((run: { name: string }) => run.name)).toEqual(["user-3", "user-2", "user-1"]);
    expect(page.body.runs[0]).toMatchObject({ requestedRef: "hub", jobType: "eval" });
    const found = await server.api("GET", `/projects/usedby/versions/${hub}/consumers?q=USER-6`);
    expect(found.body.runs.map((run: { id: string }) => run.id)).toEqual([users[6]]);
    const producers = await server.api("GET", `/projects/usedby/versions/${hub}/producers`);
    expect(producers.body).toEqual({ runs: [], total: 0 });
  });

  it("pages an artifact's versions newest first, searchable by vN and alias", async () => {
    const lab = lineageBuilder(server, "versions");
    for (let index = 0; index < 4; index++)
      await lab.log(undefined, "model", "model", index === 1 ? { aliases: ["best"] } : {});
    const { body } = await server.api("GET", "/projects/versions/artifacts/model/versions?limit=2&offset=1");
    expect(body.total).toBe(4);
    expect(body.versions.map((version: { version: string }) => version.version)).toEqual(["v2", "v1"]);
    const best = await server.api("GET", "/projects/versions/artifacts/model/versions?q=BEST");
    expect(best.body.versions.map((version: { version: string }) => version.version)).toEqual(["v1"]);
    const v3 = await server.api("GET", "/projects/versions/artifacts/model/versions?q=v3");
    expect(v3.body.total).toBe(1);
  });
});
