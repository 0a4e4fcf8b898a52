import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeSet, lineageBuilder, nodeSet } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * The zoo pipeline:
 *   raw → prep → split ─→ train → model → evaluate → results
 *               ↘ code (generated)  ↘ checkpoint    ↑
 *                    split ───────────────────────┘ (evaluate also reads split)
 *                    split → probe (another consumer, logs nothing)
 */
let server: TestServer;
let zoo: ReturnType<typeof lineageBuilder>;
type Name =
  | "ingest"
  | "raw"
  | "prep"
  | "split"
  | "code"
  | "train"
  | "model"
  | "checkpoint"
  | "evaluate"
  | "results"
  | "probe";
const id = {} as Record<Name, string>;

beforeAll(async () => {
  server = await startTestServer();
  zoo = lineageBuilder(server, "zoo");
  id.ingest = await zoo.run("ingest");
  id.raw = await zoo.log(id.ingest, "raw", "dataset");
  id.prep = await zoo.run("preprocess");
  await zoo.use(id.prep, "raw");
  id.split = await zoo.log(id.prep, "split", "dataset");
  id.code = await zoo.log(id.prep, "code-prep", "code", { generated: true });
  id.train = await zoo.run("training");
  await zoo.use(id.train, "split");
  id.model = await zoo.log(id.train, "model", "model");
  id.checkpoint = await zoo.log(id.train, "checkpoint", "model-checkpoint");
  id.evaluate = await zoo.run("eval");
  await zoo.use(id.evaluate, "model:v0");
  await zoo.use(id.evaluate, "split");
  id.results = await zoo.log(id.evaluate, "results", "eval-results");
  id.probe = await zoo.run("probe");
  await zoo.use(id.probe, "split");
});
afterAll(() => server.close());

const at = (name: Name, depth: number) => `${id[name]}@${depth}`;
const edge = (source: Name, target: Name, kind: string) => `${id[source]}>${id[target]}:${kind}`;

describe("lineage: upstream and downstream hops", () => {
  it("walks two hops each way by default, one edge per hop", async () => {
    const { status, body } = await zoo.lineage("model");
    expect(status).toBe(200);
    expect(body.base).toBe(id.model);
    expect(body.truncated).toBe(false);
    expect(nodeSet(body)).toEqual(
      [at("split", -2), at("train", -1), at("model", 0), at("evaluate", 1), at("results", 2)].sort(),
    );
    expect(edgeSet(body)).toEqual(
      [
        edge("split", "train", "input"),
        edge("train", "model", "output"),
        edge("model", "evaluate", "input"),
        edge("evaluate", "results", "output"),
      ].sort(),
    );
  });

  it("counts each edge as a hop, up to the producer's inputs' producers", async () => {
    const { body } = await zoo.lineage("model", { upstream: 4, downstream: 0 });
    expect(nodeSet(body)).toEqual(
      [at("raw", -4), at("prep", -3), at("split", -2), at("train", -1), at("model", 0)].sort(),
    );
    expect(edgeSet(body)).toEqual(
      [
        edge("raw", "prep", "input"),
        edge("prep", "split", "output"),
        edge("split", "train", "input"),
        edge("train", "model", "output"),
      ].sort(),
    );
  });

  it("keeps every edge leaving a node inside the budget, also to nodes already shown", async () => {
    const { body } = await zoo.lineage(id.split, { upstream: 0, downstream: 3 });
    expect(nodeSet(body)).toEqual(
      [
        at("split", 0),
        at("train", 1),
        at("evaluate", 1),
        at("probe", 1),
        at("model", 2),
        at("checkpoint", 2),
        at("results", 2),
      ].sort(),
    );
    expect(edgeSet(body)).toContain(edge("model", "evaluate", "input"));
  });

  it("summarizes versions and runs", async () => {
    const { body } = await zoo.lineage("model", { upstream: 1, downstream: 0 });
    const model = body.nodes.find((node: { id: string }) => node.id === id.model);
    expect(model).toMatchObject({
      kind: "version",
      artifact: "model",
      type: "model",
      version: "v0",
      aliases: ["latest"],
      generated: false,
      depth: 0,
    });
    expect(model.digest).toMatch(/^[a-f0-9]{64}$/);
    const train = body.nodes.find((node: { id: string }) => node.id === id.train);
    expect(train).toMatchObject({ kind: "run", jobType: "training", state: "running", depth: -1, finishedAt: null });
    expect(train).not.toHaveProperty("extended");
  });
});

describe("lineage: base node", () => {
  it("takes a ref with an alias or vN, a version id or a run id", async () => {
    for (const node of ["model:latest", "model:v0", id.model]) {
      expect((await zoo.lineage(node, { upstream: 0, downstream: 0 })).body.base).toBe(id.model);
    }
    const run = await zoo.lineage(id.train, { upstream: 1, downstream: 1 });
    expect(run.body.base).toBe(id.train);
    expect(nodeSet(run.body)).toEqual([at("split", -1), at("train", 0), at("model", 1), at("checkpoint", 1)].sort());
  });

  it("tries a run id first when a name also fits it", async () => {
    const runId = "abcd1234";
    await server.api("POST", "/projects/zoo/runs", { id: runId, jobType: "eval" });
    await zoo.log(undefined, runId, "dataset");
    expect((await zoo.lineage(runId)).body.base).toBe(runId);
    expect((await zoo.lineage(`${runId}:v0`)).body.nodes[0].kind).toBe("version");
  });

  it("answers 404 naming a base that does not exist", async () => {
    const { status, body } = await zoo.lineage("no-such-model:v3");
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: "NOT_FOUND", field: "node" });
    expect(body.error.message).toContain("no-such-model");
    expect((await zoo.lineage("model:v9")).status).toBe(404);
  });

  it("answers 400 naming a bad option", async () => {
    for (const [option, value] of [
      ["upstream", -1],
      ["downstream", "two"],
      ["maxNodes", 10_001],
      ["clusterMin", 1],
      ["asOf", "yesterday"],
      ["extended", "maybe"],
    ] as const) {
      const { status, body } = await zoo.lineage("model", { [option]: value });
      expect(status, option).toBe(400);
      expect(body.error).toMatchObject({ code: "BAD_REQUEST", field: option });
    }
    const missing = await server.api("GET", "/projects/zoo/lineage");
    expect(missing.body.error).toMatchObject({ code: "BAD_REQUEST", field: "node" });
  });
});

describe("lineage: artifact-type filter", () => {
  it("hides other types and joins their neighbours with hidden edges", async () => {
    const { body } = await zoo.lineage("model", { upstream: 4, downstream: 2, artifactTypes: "model" });
    expect(nodeSet(body)).toEqual([at("prep", -3), at("train", -1), at("model", 0), at("evaluate", 1)].sort());
    expect(edgeSet(body)).toEqual(
      [edge("prep", "train", "hidden"), edge("train", "model", "output"), edge("model", "evaluate", "input")].sort(),
    );
  });

  it("never hides the base", async () => {
    const { body } = await zoo.lineage("model", { upstream: 0, downstream: 0, artifactTypes: "dataset" });
    expect(nodeSet(body)).toEqual([at("model", 0)]);
  });
});

describe("lineage: job-type filter", () => {
  it("hides other job types and joins the versions around them with hidden edges", async () => {
    const { body } = await zoo.lineage("model", { jobTypes: "eval" });
    expect(nodeSet(body)).toEqual([at("split", -2), at("model", 0), at("evaluate", 1), at("results", 2)].sort());
    expect(edgeSet(body)).toEqual(
      [
        edge("split", "model", "hidden"),
        edge("model", "evaluate", "input"),
        edge("evaluate", "results", "output"),
      ].sort(),
    );
  });

  it("takes several job types", async () => {
    const { body } = await zoo.lineage("model", { jobTypes: "eval,training", upstream: 1, downstream: 1 });
    expect(nodeSet(body)).toEqual([at("train", -1), at("model", 0), at("evaluate", 1)].sort());
  });
});

describe("lineage: generated versions", () => {
  it("hides generated versions unless asked", async () => {
    const hidden = await zoo.lineage(id.prep, { upstream: 0, downstream: 1 });
    expect(nodeSet(hidden.body)).toEqual([at("prep", 0), at("split", 1)].sort());
    const shown = await zoo.lineage(id.prep, { upstream: 0, downstream: 1, includeGenerated: true });
    expect(nodeSet(shown.body)).toEqual([at("prep", 0), at("split", 1), at("code", 1)].sort());
    expect(edgeSet(shown.body)).toEqual([edge("prep", "split", "output"), edge("prep", "code", "output")].sort());
    expect(shown.body.nodes.find((node: { id: string }) => node.id === id.code).generated).toBe(true);
  });
});

describe("lineage: extended lineage", () => {
  it("adds siblings flagged extended: other outputs, other inputs, other consumers", async () => {
    const { body } = await zoo.lineage("model", { extended: true });
    expect(nodeSet(body)).toEqual(
      [
        at("split", -2),
        at("train", -1),
        at("probe", -1),
        at("model", 0),
        at("checkpoint", 0),
        at("evaluate", 1),
        at("results", 2),
      ].sort(),
    );
    const extended = body.nodes
      .filter((node: { extended?: boolean }) => node.extended)
      .map((node: { id: string }) => node.id);
    expect(extended.sort()).toEqual([id.probe, id.checkpoint].sort());
    expect(edgeSet(body)).toEqual(
      [
        edge("split", "train", "input"),
        edge("train", "model", "output"),
        edge("model", "evaluate", "input"),
        edge("evaluate", "results", "output"),
        edge("split", "probe", "input"),
        edge("train", "checkpoint", "output"),
        edge("split", "evaluate", "input"),
      ].sort(),
    );
  });

  it("shows no siblings by default", async () => {
    const { body } = await zoo.lineage("model");
    expect(body.nodes.some((node: { extended?: boolean }) => node.extended)).toBe(false);
  });
});

describe("lineage: path", () => {
  it("answers the shortest chain in time order, whichever end is named first", async () => {
    const forward = await server.api("GET", `/projects/zoo/lineage/path?from=raw&to=results`);
    expect(forward.status).toBe(200);
    const chain = ["raw", "prep", "split", "evaluate", "results"].map((name) => id[name as Name]);
    expect(forward.body.nodes.map((node: { id: string }) => node.id)).toEqual(chain);
    expect(forward.body.nodes.map((node: { depth: number }) => node.depth)).toEqual([0, 1, 2, 3, 4]);
    expect(edgeSet(forward.body)).toEqual(
      [
        edge("raw", "prep", "input"),
        edge("prep", "split", "output"),
        edge("split", "evaluate", "input"),
        edge("evaluate", "results", "output"),
      ].sort(),
    );
    const backward = await server.api("GET", `/projects/zoo/lineage/path?from=results&to=raw`);
    expect(backward.body.nodes.map((node: { id: string }) => node.id)).toEqual(chain);
  });

  it("answers null when nothing connects the two", async () => {
    const { body } = await server.api("GET", `/projects/zoo/lineage/path?from=checkpoint&to=results`);
    expect(body).toEqual({ from: id.checkpoint, to: id.results, nodes: null, edges: [] });
  });

  it("answers 404 naming the end that does not exist", async () => {
    const { status, body } = await server.api("GET", `/projects/zoo/lineage/path?from=raw&to=nothing`);
    expect(status).toBe(404);
    expect(body.error.field).toBe("to");
  });
});

describe("impact", () => {
  it("lists every descendant version and run, grouped by artifact type and job type", async () => {
    const { status, body } = await server.api("GET", "/projects/zoo/impact?node=raw");
    expect(status).toBe(200);
    expect(body.base).toBe(id.raw);
    expect(body.versionCount).toBe(5);
    expect(body.runCount).toBe(4);
    const types = Object.fromEntries(
      body.artifactTypes.map((group: { type: string; count: number; versions: { id: string }[] }) => [
        group.type,
        group.versions.map((version) => version.id).sort(),
      ]),
    );
    expect(types).toEqual({
      dataset: [id.split],
      code: [id.code],
      model: [id.model],
      "model-checkpoint": [id.checkpoint],
      "eval-results": [id.results],
    });
    const jobs = Object.fromEntries(
      body.jobTypes.map((group: { jobType: string; count: number }) => [group.jobType, group.count]),
    );
    expect(jobs).toEqual({ preprocess: 1, training: 1, eval: 1, probe: 1 });
    expect(body.collections).toEqual([]);
  });

  it("groups the descendant versions by the registry collections that hold them", async () => {
    expect((await server.api("POST", "/registries", { name: "impact-models" })).status).toBeLessThan(300);
    const linked = await server.api("POST", "/registries/impact-models/collections/zoo-classifier/versions", {
      project: "zoo",
      ref: id.model,
      aliases: ["production"],
    });
    expect(linked.status).toBe(201);
    const { body } = await server.api("GET", "/projects/zoo/impact?node=raw");
    expect(body.collections).toEqual([
      expect.objectContaining({
        registry: "impact-models",
        collection: "zoo-classifier",
        count: 1,
        versions: [expect.objectContaining({ id: id.model })],
      }),
    ]);
    const unlinked = await server.api("DELETE", "/registries/impact-models/collections/zoo-classifier/versions/v0");
    expect(unlinked.status).toBeLessThan(300);
    expect((await server.api("GET", "/projects/zoo/impact?node=raw")).body.collections).toEqual([]);
  });
});
