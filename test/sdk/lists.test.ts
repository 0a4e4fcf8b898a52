import { type ArtifactVersion, Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { createMember } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Paged, searchable lists and the global search through the SDK, against the real server. Project `shelf`
 * holds 5 eval runs and 2 training runs, artifacts zoo-data (3 versions, the first used by every eval run and
 * logged by both training runs), zoo-model and a generated code snapshot; project `elsewhere` holds runs and
 * artifacts of the same names, which no answer about `shelf` may show.
 */
let server: TestServer;
let pd: Pedigree;
const shelf = { evals: [] as string[], trainings: [] as string[], dataV0: "" };
const elsewhere = { runs: [] as string[] };

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function startRun(project: string, body: { name: string; jobType: string; tags?: string[] }) {
  const started = await server.api("POST", `/projects/${project}/runs`, body);
  if (started.status !== 201) throw new Error(JSON.stringify(started.body));
  return started.body.id as string;
}

beforeAll(async () => {
  server = await startTestServer();
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "shelf", pedigreeDir: server.dir });
  const lab = lineageBuilder(server, "shelf");
  for (let index = 0; index < 2; index++) {
    const run = await startRun("shelf", { name: `train-${index}`, jobType: "training", tags: ["gpu"] });
    shelf.trainings.push(run);
    shelf.dataV0 = await lab.log(run, "zoo-data", "dataset", { content: 1 });
  }
  await server.api("PATCH", `/projects/shelf/runs/${shelf.trainings[0]}`, { state: "finished" });
  await lab.log(undefined, "zoo-data", "dataset", { aliases: ["best"] });
  await lab.log(undefined, "zoo-data", "dataset");
  for (let index = 0; index < 5; index++) {
    const run = await startRun("shelf", { name: `eval-${index}`, jobType: "eval" });
    await lab.use(run, "zoo-data:v0");
    shelf.evals.push(run);
  }
  await lab.log(undefined, "zoo-model", "model");
  await lab.log(undefined, "zoo-snapshot", "code", { generated: true });

  const other = lineageBuilder(server, "elsewhere");
  for (let index = 0; index < 3; index++) {
    const run = await startRun("elsewhere", { name: `eval-${index}`, jobType: "eval", tags: ["gpu"] });
    elsewhere.runs.push(run);
    await other.log(run, "zoo-data", "dataset");
  }

  const registry = pd.registry("dataset");
  await pd.createRegistry({ name: "dataset", visibility: "organization" });
  for (const name of ["zoo-train", "zoo-test", "zoo-val", "birds"]) {
    await registry.createCollection({ name, type: "dataset", tags: name === "birds" ? [] : ["zoo"] });
  }
});
afterAll(() => server.close());

const newestFirst = (ids: string[]) => [...ids].reverse();

describe("sdk lists: runs", () => {
  it("pages through a project's runs, newest first, to the last one", async () => {
    const all = newestFirst([...shelf.trainings, ...shelf.evals]);
    const pages = [];
    for (let offset = 0; offset < 8; offset += 3) pages.push(await pd.runs({ limit: 3, offset }));
    expect(pages.map((page) => page.items.map((run) => run.id))).toEqual([
      all.slice(0, 3),
      all.slice(3, 6),
      all.slice(6),
    ]);
    expect(pages.map((page) => page.total)).toEqual([7, 7, 7]);
    expect(await pd.runs({ limit: 3, offset: 7 })).toEqual({ items: [], total: 7 });
    expect((await collect(pd.iterateRuns({ pageSize: 2 }))).map((run) => run.id)).toEqual(all);
  });

  it("filters by name, job type, state and tag, never showing another project's runs", async () => {
    const evals = await pd.runs({ q: "EVAL-", limit: 2, offset: 4 });
    expect(evals).toEqual({ items: [expect.objectContaining({ id: shelf.evals[0], project: "shelf" })], total: 5 });
    expect((await pd.runs({ jobType: "training" })).items.map((run) => run.name)).toEqual(["train-1", "train-0"]);
    expect((await pd.runs({ state: "finished" })).items.map((run) => run.id)).toEqual([shelf.trainings[0]]);
    expect((await pd.runs({ tag: "gpu" })).items.map((run) => run.id)).toEqual(newestFirst(shelf.trainings));
    const iterated = await collect(pd.iterateRuns({ q: "eval", pageSize: 2 }));
    expect(iterated.map((run) => run.id)).toEqual(newestFirst(shelf.evals));
    expect((await collect(pd.iterateRuns({ project: "elsewhere" }))).map((run) => run.id)).toEqual(
      newestFirst(elsewhere.runs),
    );
  });
});

describe("sdk lists: artifacts and versions", () => {
  it("pages through artifacts by name, filtered by type and name, generated ones on request", async () => {
    const first = await pd.artifacts({ limit: 1 });
    expect(first.items.map((artifact) => artifact.name)).toEqual(["zoo-data"]);
    expect(first.total).toBe(2);
    expect((await pd.artifacts({ limit: 1, offset: 1 })).items.map((artifact) => artifact.name)).toEqual(["zoo-model"]);
    const withGenerated = await collect(pd.iterateArtifacts({ includeGenerated: true, pageSize: 1 }));
    expect(withGenerated.map((artifact) => [artifact.project, artifact.name, artifact.versionCount])).toEqual([
      ["shelf", "zoo-data", 3],
      ["shelf", "zoo-model", 1],
      ["shelf", "zoo-snapshot", 1],
    ]);
    expect((await pd.artifacts({ type: "model" })).items.map((artifact) => artifact.name)).toEqual(["zoo-model"]);
    expect(await pd.artifacts({ q: "MODEL" })).toMatchObject({ items: [{ name: "zoo-model" }], total: 1 });
  });

  it("pages through an artifact's versions as ArtifactVersions, searchable by alias", async () => {
    const firstPage = await pd.versions("zoo-data", { limit: 2 });
    expect(firstPage.items.map((version) => version.ref)).toEqual(["zoo-data:v2", "zoo-data:v1"]);
    expect(firstPage.total).toBe(3);
    const last = await pd.versions("zoo-data", { limit: 2, offset: 2 });
    expect(last.items.map((version) => version.id)).toEqual([shelf.dataV0]);
    expect((await pd.versions("zoo-data", { q: "best" })).items.map((version) => version.ref)).toEqual(["zoo-data:v1"]);
    const all: ArtifactVersion[] = await collect(pd.iterateVersions("zoo-data", { pageSize: 2 }));
    expect(all.map((version) => version.version)).toEqual(["v2", "v1", "v0"]);
    expect(all.every((version) => version.project === "shelf")).toBe(true);
    const theirs = await collect(pd.iterateVersions("zoo-data", { project: "elsewhere" }));
    expect(theirs.map((version) => version.project)).toEqual(["elsewhere", "elsewhere", "elsewhere"]);
  });

  it("pages through the runs that used and that logged a version", async () => {
    const data = await pd.artifact("zoo-data:v0");
    const users = newestFirst(shelf.evals);
    const pages = [await data.consumers({ limit: 2 }), await data.consumers({ limit: 2, offset: 2 })];
    pages.push(await data.consumers({ limit: 2, offset: 4 }));
    expect(pages.map((page) => page.items.map((run) => run.id))).toEqual([
      users.slice(0, 2),
      users.slice(2, 4),
      users.slice(4),
    ]);
    expect(pages.map((page) => page.total)).toEqual([5, 5, 5]);
    expect(pages[0]?.items[0]).toMatchObject({ requestedRef: "zoo-data:v0" });
    expect((await collect(data.iterateConsumers({ pageSize: 2 }))).map((run) => run.id)).toEqual(users);
    expect((await data.consumers({ q: "eval-3" })).items.map((run) => run.id)).toEqual([shelf.evals[3]]);
    expect((await data.producers()).items.map((run) => run.id)).toEqual(shelf.trainings);
    expect((await collect(data.iterateProducers({ q: "train-0", pageSize: 1 }))).map((run) => run.id)).toEqual([
      shelf.trainings[0],
    ]);
  });
});

describe("sdk lists: collections", () => {
  it("pages through a registry's collections by name, filtered by name and tag", async () => {
    const registry = pd.registry("dataset");
    const first = await registry.collections({ limit: 3 });
    expect(first.items.map((collection) => collection.name)).toEqual(["birds", "zoo-test", "zoo-train"]);
    expect(first.total).toBe(4);
    expect((await registry.collections({ limit: 3, offset: 3 })).items.map((collection) => collection.name)).toEqual([
      "zoo-val",
    ]);
    const zoo = await collect(registry.iterateCollections({ q: "ZOO", pageSize: 2 }));
    expect(zoo.map((collection) => collection.name)).toEqual(["zoo-test", "zoo-train", "zoo-val"]);
    expect(await registry.collections({ tag: "zoo", q: "val" })).toMatchObject({
      items: [{ name: "zoo-val" }],
      total: 1,
    });
  });
});

describe("sdk: global search", () => {
  it("finds runs, artifacts, versions and collections by name, per kind and per project", async () => {
    const found = await pd.search("zoo-d", { project: "shelf" });
    expect(found.totals).toEqual({ run: 0, artifact: 1, version: 3, collection: 0 });
    expect(found.hits.filter((hit) => hit.kind === "artifact")).toEqual([
      { kind: "artifact", id: "shelf/zoo-data", name: "zoo-data", type: "dataset", scope: "shelf" },
    ]);
    expect(found.hits.every((hit) => hit.scope === "shelf")).toBe(true);
    const runs = await pd.search("eval", { kinds: ["run"], limit: 100 });
    expect(runs.totals.run).toBe(8);
    expect(runs.hits.map((hit) => hit.kind)).toEqual(Array(8).fill("run"));
    const collections = await pd.search("zoo", { kinds: ["collection"], limit: 2 });
    expect(collections.totals.collection).toBe(3);
    expect(collections.hits).toHaveLength(2);
  });

  it("never shows a reader what projects it cannot read hold", async () => {
    const apiKey = await createMember(server, "shelf-reader");
    const role = await server.api("PUT", "/projects/shelf/members/shelf-reader", { role: "viewer" });
    expect(role.status).toBe(200);
    const reader = new Pedigree({ baseUrl: server.url, apiKey, project: "shelf", pedigreeDir: server.dir });
    const everywhere = await reader.search("eval", { kinds: ["run"], limit: 100 });
    expect(everywhere.totals.run).toBe(5);
    expect(everywhere.hits.map((hit) => hit.id).sort()).toEqual([...shelf.evals].sort());
    const there = await reader.search("zoo", { project: "elsewhere" });
    expect(there.hits.filter((hit) => hit.kind !== "collection")).toEqual([]);
    expect(there.totals).toMatchObject({ run: 0, artifact: 0, version: 0 });
    expect((await collect(reader.iterateRuns({ pageSize: 3 }))).map((run) => run.id)).toEqual(
      newestFirst([...shelf.trainings, ...shelf.evals]),
    );
    await expect(reader.runs({ project: "elsewhere" })).rejects.toMatchObject({ status: expect.any(Number) });
  });
});
