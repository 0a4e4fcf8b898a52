import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeSet, type GraphAnswer, lineageBuilder, nodeSet } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * raw → prep → hub, and the hub read by 12 eval runs (each logs a score) and 3 training runs (each logs a model):
 * 15 nodes at hop 1 and 15 at hop 2 below the hub.
 */
let server: TestServer;
let lab: ReturnType<typeof lineageBuilder>;
const id = { raw: "", prep: "", hub: "", evals: [] as string[], trainings: [] as string[] };

beforeAll(async () => {
  server = await startTestServer();
  lab = lineageBuilder(server, "budget");
  id.raw = await lab.log(undefined, "raw", "dataset");
  id.prep = await lab.run("preprocess", "prep");
  await lab.use(id.prep, "raw");
  id.hub = await lab.log(id.prep, "hub", "dataset");
  for (let index = 0; index < 12; index++) {
    const run = await lab.run("eval", `eval-${String(index).padStart(2, "0")}`);
    await lab.use(run, "hub");
    await lab.log(run, `score-${index}`, "score");
    id.evals.push(run);
  }
  for (let index = 0; index < 3; index++) {
    const run = await lab.run("training", `train-${index}`);
    await lab.use(run, "hub");
    await lab.log(run, `model-${index}`, "model");
    id.trainings.push(run);
  }
});
afterAll(() => server.close());

interface Answer extends GraphAnswer {
  base: string;
  nodes: (GraphAnswer["nodes"][number] & {
    memberKind?: string;
    type?: string;
    memberCount?: number;
    shownMembers?: number;
    reason?: string;
    cluster?: string;
  })[];
  truncated:
    | false
    | {
        maxNodes: number;
        layers: { depth: number; nodes: number; clustered: number; clusters: number; omitted: number }[];
      };
}

const expanded = { expandClusters: true, upstream: 2, downstream: 2 };
const clusterOf = (answer: Answer, type: string) =>
  answer.nodes.find((node) => node.kind === "cluster" && node.type === type) as Answer["nodes"][number];

/** Every node other than the base has an edge, and all reach the base over the answer's edges. */
function expectConnected(answer: Answer) {
  const ids = new Set(answer.nodes.map((node) => node.id));
  for (const edge of answer.edges) {
    expect(ids.has(edge.source)).toBe(true);
    expect(ids.has(edge.target)).toBe(true);
  }
  const seen = new Set([answer.base]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const { source, target } of answer.edges) {
      if (seen.has(source) !== seen.has(target)) {
        seen.add(source);
        seen.add(target);
        grew = true;
      }
    }
  }
  expect([...ids].filter((node) => !seen.has(node))).toEqual([]);
}

describe("lineage budget: a layer over maxNodes", () => {
  it("keeps the layer as clusters with counts, and the layers after it", async () => {
    const { status, body } = (await lab.lineage("hub", { ...expanded, maxNodes: 10 })) as {
      status: number;
      body: Answer;
    };
    expect(status).toBe(200);
    expect(body.nodes.length).toBeLessThanOrEqual(10);
    expect(nodeSet(body).filter((node) => !node.startsWith("cl_"))).toEqual(
      [`${id.raw}@-2`, `${id.prep}@-1`, `${id.hub}@0`].sort(),
    );
    const evals = clusterOf(body, "eval");
    const trainings = clusterOf(body, "training");
    const scores = clusterOf(body, "score");
    const models = clusterOf(body, "model");
    expect([evals, trainings, scores, models].map((node) => [node.depth, node.memberCount, node.reason])).toEqual([
      [1, 12, "budget"],
      [1, 3, "budget"],
      [2, 12, "budget"],
      [2, 3, "budget"],
    ]);
    expect(edgeSet(body)).toEqual(
      [
        `${id.raw}>${id.prep}:input`,
        `${id.prep}>${id.hub}:output`,
        `${id.hub}>${evals.id}:input`,
        `${id.hub}>${trainings.id}:input`,
        `${evals.id}>${scores.id}:output`,
        `${trainings.id}>${models.id}:output`,
      ].sort(),
    );
    expect(body.truncated).toEqual({
      maxNodes: 10,
      layers: [
        { depth: 1, nodes: 15, clustered: 15, clusters: 2, omitted: 0 },
        { depth: 2, nodes: 15, clustered: 15, clusters: 2, omitted: 0 },
      ],
    });
    expectConnected(body);
  });

  it("shows nearer layers in full while the budget lasts", async () => {
    const { body } = (await lab.lineage("hub", { ...expanded, maxNodes: 20 })) as { body: Answer };
    expect(body.nodes.filter((node) => node.depth === 1 && node.kind === "run")).toHaveLength(15);
    expect(clusterOf(body, "score").memberCount).toBe(12);
    expect(body.truncated && body.truncated.layers.map((layer) => layer.depth)).toEqual([2]);
    expectConnected(body);
  });

  it("never drops the upstream side for the downstream side", async () => {
    const { body } = (await lab.lineage("hub", { ...expanded, maxNodes: 4 })) as { body: Answer };
    expect(nodeSet(body)).toEqual([`${id.raw}@-2`, `${id.prep}@-1`, `${id.hub}@0`].sort());
    expect(body.truncated).toEqual({
      maxNodes: 4,
      layers: [
        { depth: 1, nodes: 15, clustered: 0, clusters: 0, omitted: 15 },
        { depth: 2, nodes: 15, clustered: 0, clusters: 0, omitted: 15 },
      ],
    });
    const five = (await lab.lineage("hub", { ...expanded, maxNodes: 5 })) as { body: Answer };
    expect(five.body.nodes.map((node) => node.type ?? node.kind)).toContain("eval");
    expect(five.body.truncated && five.body.truncated.layers.map((layer) => [layer.depth, layer.omitted])).toEqual([
      [1, 0],
      [2, 15],
    ]);
    expectConnected(five.body);
  });

  it("keeps the producer when the consumers do not fit, also from a consumer's side", async () => {
    const { body } = (await lab.lineage(id.evals[0] as string, { ...expanded, extended: true, maxNodes: 6 })) as {
      body: Answer;
    };
    expect(nodeSet(body)).toContain(`${id.hub}@-1`);
    expect(nodeSet(body)).toContain(`${id.prep}@-2`);
    expect(body.nodes.length).toBeLessThanOrEqual(6);
    expectConnected(body);
  });
});

describe("lineage budget: partial expansion", () => {
  it("shows the first n members of a budget cluster, then the next ones, and puts them back", async () => {
    const first = (await lab.lineage("hub", { ...expanded, maxNodes: 10 })) as { body: Answer };
    const evals = clusterOf(first.body, "eval");
    const five = (await lab.lineage("hub", { ...expanded, maxNodes: 10, expand: `${evals.id}:5` })) as { body: Answer };
    const shown = five.body.nodes.filter((node) => node.cluster === evals.id).map((node) => node.id);
    expect(shown).toEqual(id.evals.slice(0, 5));
    expect(clusterOf(five.body, "eval")).toMatchObject({ id: evals.id, memberCount: 7, shownMembers: 5 });
    const scores = clusterOf(five.body, "score");
    expect(edgeSet(five.body)).toEqual(expect.arrayContaining(shown.map((run) => `${run}>${scores.id}:output`)));
    expectConnected(five.body);

    const ten = (await lab.lineage("hub", { ...expanded, maxNodes: 10, expand: `${evals.id}:10` })) as { body: Answer };
    expect(ten.body.nodes.filter((node) => node.cluster === evals.id)).toHaveLength(10);
    expect(clusterOf(ten.body, "eval")).toMatchObject({ memberCount: 2, shownMembers: 10 });
    const all = (await lab.lineage("hub", { ...expanded, maxNodes: 10, expand: `${evals.id}:50` })) as { body: Answer };
    expect(all.body.nodes.filter((node) => node.cluster === evals.id)).toHaveLength(12);
    expect(clusterOf(all.body, "eval")).toBeUndefined();
    expectConnected(all.body);
    // Put back: the same query without the expansion.
    const back = (await lab.lineage("hub", { ...expanded, maxNodes: 10 })) as { body: Answer };
    expect(nodeSet(back.body)).toEqual(nodeSet(first.body));
  });

  it("expands a similar cluster partly too, keeping its id", async () => {
    const clustered = (await lab.lineage("hub", {})) as { body: Answer };
    const evals = clusterOf(clustered.body, "eval");
    expect(evals).toMatchObject({ memberCount: 12, reason: "similar", shownMembers: 0 });
    const { body } = (await lab.lineage("hub", { expand: `${evals.id}:3` })) as { body: Answer };
    expect(clusterOf(body, "eval")).toMatchObject({ id: evals.id, memberCount: 9, shownMembers: 3 });
    expect(body.nodes.filter((node) => node.cluster === evals.id).map((node) => node.id)).toEqual(id.evals.slice(0, 3));
    expectConnected(body);
  });

  it("lists a budget cluster's members, paged and searchable", async () => {
    const { body } = (await lab.lineage("hub", { ...expanded, maxNodes: 10 })) as { body: Answer };
    const evals = clusterOf(body, "eval");
    const query = new URLSearchParams({
      node: "hub",
      expandClusters: "true",
      maxNodes: "10",
      limit: "5",
      offset: "10",
    });
    const page = await server.api("GET", `/projects/budget/lineage/clusters/${evals.id}/members?${query}`);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(12);
    expect(page.body.members.map((node: { id: string }) => node.id)).toEqual(id.evals.slice(10));
    query.set("q", "EVAL-0");
    const found = await server.api(
      "GET",
      `/projects/budget/lineage/clusters/${evals.id}/members?${query.toString().replace("offset=10", "offset=0")}`,
    );
    expect(found.body.total).toBe(10);
  });

  it("answers 400 naming expand for a malformed expansion", async () => {
    const { status, body } = await lab.lineage("hub", { expand: "cl_zz:5" });
    expect(status).toBe(400);
    expect(body.error.field).toMatch(/^expand/);
  });
});

describe("lineage budget: filters", () => {
  it("clusters what a job-type filter shows, joining hidden nodes with hidden edges", async () => {
    const { body } = (await lab.lineage("hub", { ...expanded, jobTypes: "eval", maxNodes: 5 })) as { body: Answer };
    expect(body.nodes.length).toBeLessThanOrEqual(5);
    expect(clusterOf(body, "eval")?.memberCount).toBe(12);
    expect(body.nodes.some((node) => node.type === "training")).toBe(false);
    expectConnected(body);
  });

  it("with extended and generated versions on, leaves no node without an edge", async () => {
    const gen = lineageBuilder(server, "budget-gen");
    await gen.log(undefined, "seed", "dataset");
    for (let index = 0; index < 8; index++) {
      const run = await gen.run("eval", `e-${index}`);
      await gen.use(run, "seed");
      await gen.log(run, `code-${index}`, "code", { generated: true });
      await gen.log(run, `score-${index}`, "score");
    }
    for (const maxNodes of [2, 3, 4, 6, 9, 12]) {
      const { body } = (await gen.lineage("score-3", {
        upstream: 3,
        downstream: 2,
        extended: true,
        includeGenerated: true,
        expandClusters: true,
        maxNodes,
      })) as { body: Answer };
      expect(body.nodes.length).toBeLessThanOrEqual(maxNodes);
      expectConnected(body);
    }
  });
});
