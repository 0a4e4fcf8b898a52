import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * The `truncated` report after pulls and expansions. raw → prep → hub (prep also logs hub-stats, raw is also read
 * by an `other` run); the hub read by 12 eval runs (each logs a score) and 3 training runs (each logs a model);
 * an aggregate run reads every score and model and logs the summary, so the same layers are seen from below too.
 */
let server: TestServer;
let lab: ReturnType<typeof lineageBuilder>;
const id = { hub: "", summary: "", evals: [] as string[], scores: [] as string[] };

beforeAll(async () => {
  server = await startTestServer();
  lab = lineageBuilder(server, "budget-report");
  await lab.log(undefined, "raw", "dataset");
  const prep = await lab.run("preprocess", "prep");
  await lab.use(prep, "raw");
  id.hub = await lab.log(prep, "hub", "dataset");
  await lab.log(prep, "hub-stats", "stats");
  const other = await lab.run("explore", "other");
  await lab.use(other, "raw");
  const aggregate = await lab.run("report", "aggregate");
  for (let index = 0; index < 12; index++) {
    const run = await lab.run("eval", `eval-${String(index).padStart(2, "0")}`);
    await lab.use(run, "hub");
    id.scores.push(await lab.log(run, `score-${String(index).padStart(2, "0")}`, "score"));
    await lab.use(aggregate, `score-${String(index).padStart(2, "0")}`);
    id.evals.push(run);
  }
  for (let index = 0; index < 3; index++) {
    const run = await lab.run("training", `train-${index}`);
    await lab.use(run, "hub");
    await lab.log(run, `model-${index}`, "model");
    await lab.use(aggregate, `model-${index}`);
  }
  id.summary = await lab.log(aggregate, "summary", "report");
});
afterAll(() => server.close());

interface Node {
  id: string;
  kind: string;
  depth: number;
  type?: string;
  memberCount?: number;
  shownMembers?: number;
  reason?: string;
  cluster?: string;
}
interface Layer {
  depth: number;
  nodes: number;
  clustered: number;
  clusters: number;
  omitted: number;
}
interface Answer {
  base: string;
  nodes: Node[];
  edges: { source: string; target: string; kind: string }[];
  truncated: false | { maxNodes: number; layers: Layer[] };
}

type Options = Record<string, string | number | boolean>;

async function lineage(node: string, options: Options): Promise<Answer> {
  const { status, body } = await lab.lineage(node, options);
  expect(status, JSON.stringify(body)).toBe(200);
  return body as Answer;
}

/** Members per layer (base apart) of the whole graph the options describe: every node shown, nothing clustered. */
async function layerSizes(node: string, options: Options): Promise<Map<number, number>> {
  const { expand: _expand, pull: _pull, maxNodes: _maxNodes, ...rest } = options;
  const whole = await lineage(node, { ...rest, expandClusters: true, maxNodes: 10_000 });
  expect(whole.truncated).toBe(false);
  const sizes = new Map<number, number>();
  for (const shown of whole.nodes)
    if (shown.id !== whole.base) sizes.set(shown.depth, (sizes.get(shown.depth) ?? 0) + 1);
  return sizes;
}

/**
 * Per layer, shown nodes + members still in shown clusters + omitted = the layer's size; a layer all shown or in
 * shown clusters has nothing omitted; the report names each layer's size.
 */
function expectReportAddsUp(answer: Answer, sizes: Map<number, number>) {
  const report = answer.truncated === false ? [] : answer.truncated.layers;
  expect(report.filter((layer) => !sizes.has(layer.depth))).toEqual([]);
  for (const [depth, size] of sizes) {
    const shown = answer.nodes.filter((node) => node.depth === depth && node.id !== answer.base);
    const accounted = shown.reduce((sum, node) => sum + (node.kind === "cluster" ? (node.memberCount ?? 0) : 1), 0);
    const layer = report.find((entry) => entry.depth === depth);
    const budgetClusters = shown.filter((node) => node.reason === "budget");
    expect({ depth, accounted: accounted + (layer?.omitted ?? 0) }).toEqual({ depth, accounted: size });
    if (accounted === size) expect({ depth, omitted: layer?.omitted ?? 0 }).toEqual({ depth, omitted: 0 });
    if (layer) {
      expect(layer).toEqual({
        depth,
        nodes: size,
        clustered: budgetClusters.reduce((sum, node) => sum + (node.memberCount ?? 0), 0),
        clusters: budgetClusters.length,
        omitted: size - accounted,
      });
    } else expect({ depth, budgetClusters: budgetClusters.length }).toEqual({ depth, budgetClusters: 0 });
  }
}

/** The answer for `options`, its report checked against the whole graph's layers. */
async function checked(node: string, options: Options): Promise<Answer> {
  const answer = await lineage(node, options);
  expectReportAddsUp(answer, await layerSizes(node, options));
  return answer;
}

const clusterOf = (answer: Answer, type: string, reason?: string) =>
  answer.nodes.find((node) => node.kind === "cluster" && node.type === type && (!reason || node.reason === reason));

describe("lineage budget report: expansions and pulls", () => {
  it("adds up after a budget cluster is expanded partly, downstream", async () => {
    const options = { expandClusters: true, maxNodes: 10 };
    const first = await checked("hub", options);
    const evals = clusterOf(first, "eval", "budget") as Node;
    expect(evals.memberCount).toBe(12);
    const five = await checked("hub", { ...options, expand: `${evals.id}:5` });
    expect(clusterOf(five, "eval")).toMatchObject({ id: evals.id, memberCount: 7, shownMembers: 5 });
    await checked("hub", { ...options, expand: `${evals.id}:50` });
  });

  it("adds up after a budget cluster folding a similar cluster and a member pulled from it is expanded", async () => {
    const pulled = { pull: id.evals[4] as string, maxNodes: 6 };
    const folded = await checked("hub", pulled);
    const evals = clusterOf(folded, "eval", "budget") as Node;
    expect(evals).toMatchObject({ memberCount: 12, shownMembers: 0 });
    for (const count of [1, 5]) {
      const answer = await checked("hub", { ...pulled, expand: `${evals.id}:${count}` });
      expect(answer.nodes.filter((node) => node.cluster === evals.id).map((node) => node.id)).toEqual([id.evals[4]]);
      expect(clusterOf(answer, "eval", "budget")).toMatchObject({ memberCount: 11, shownMembers: 1 });
    }
  });

  it("marks every member of a similar cluster expanded whole with the cluster it came out of (to put it back)", async () => {
    const similar = clusterOf(await checked("hub", {}), "eval", "similar") as Node;
    const whole = await checked("hub", { expand: `${similar.id}:50` });
    const evals = whole.nodes.filter((node) => node.kind === "run" && id.evals.includes(node.id));
    expect(evals).toHaveLength(12);
    for (const node of evals) expect((node as { cluster?: string }).cluster).toBe(similar.id);
  });

  it("adds up after a similar cluster inside a layer over budget is expanded or pulled from", async () => {
    const similar = clusterOf(await checked("hub", {}), "eval", "similar") as Node;
    expect(similar).toMatchObject({ memberCount: 12, reason: "similar" });
    for (const change of [
      { expand: `${similar.id}:3` },
      { expand: `${similar.id}:50` },
      { pull: id.evals[4] as string },
    ] as Options[]) {
      for (const maxNodes of [4, 6, 8, 12]) {
        const answer = await checked("hub", { maxNodes, ...change });
        expect(answer.nodes.length).toBeLessThanOrEqual(maxNodes);
      }
    }
    // Over budget, the layer's evals are one budget cluster of all 12, however many came out of the similar one.
    const folded = await checked("hub", { maxNodes: 6, expand: `${similar.id}:3` });
    const evals = clusterOf(folded, "eval", "budget") as Node;
    expect(evals).toMatchObject({ memberCount: 12, shownMembers: 0 });
    const query = new URLSearchParams({ node: "hub", maxNodes: "6", expand: `${similar.id}:3`, limit: "50" });
    const members = await server.api("GET", `/projects/budget-report/lineage/clusters/${evals.id}/members?${query}`);
    expect(members.body.members.map((node: { id: string }) => node.id)).toEqual(id.evals);
    const layers = folded.truncated === false ? [] : folded.truncated.layers;
    expect(layers.find((layer) => layer.depth === 1)).toEqual({
      depth: 1,
      nodes: 15,
      clustered: 15,
      clusters: 2,
      omitted: 0,
    });
  });

  it("adds up upstream, after expanding and pulling from the clusters there", async () => {
    const options = { upstream: 4, downstream: 0 };
    const whole = await checked(id.summary, options);
    const scores = clusterOf(whole, "score", "similar") as Node;
    const evals = clusterOf(whole, "eval", "similar") as Node;
    expect([scores.memberCount, evals.memberCount]).toEqual([12, 12]);
    for (const change of [
      { expand: `${scores.id}:4` },
      { expand: `${evals.id}:2` },
      { pull: `${id.scores[0]},${id.evals[7]}` },
    ] as Options[]) {
      for (const maxNodes of [3, 5, 7, 9, 14]) {
        const answer = await checked(id.summary, { ...options, maxNodes, ...change });
        expect(answer.nodes.length).toBeLessThanOrEqual(maxNodes);
      }
    }
  });

  it("adds up with extended lineage on, both directions", async () => {
    const similar = clusterOf(await checked("hub", { extended: true }), "eval", "similar") as Node;
    for (const change of [{}, { expand: `${similar.id}:3` }, { pull: `${id.evals[1]},${id.evals[2]}` }] as Options[]) {
      for (const maxNodes of [5, 7, 10]) {
        await checked("hub", { extended: true, maxNodes, ...change });
        await checked(id.scores[3] as string, { extended: true, upstream: 3, maxNodes, ...change });
      }
    }
    const budget = await lineage("hub", { extended: true, expandClusters: true, maxNodes: 10 });
    const evals = clusterOf(budget, "eval", "budget") as Node;
    await checked("hub", { extended: true, expandClusters: true, maxNodes: 10, expand: `${evals.id}:4` });
  });
});
