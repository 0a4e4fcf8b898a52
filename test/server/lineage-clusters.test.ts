import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeSet, lineageBuilder, nodeSet } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * A hub dataset read by one training run (which logs a model) and by six eval runs `sweep-1` … `sweep-6`
 * (each logging one score).
 */
let server: TestServer;
let lab: ReturnType<typeof lineageBuilder>;
let hub: string;
let train: string;
let model: string;
const sweeps: string[] = [];
const scores: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  lab = lineageBuilder(server, "lab");
  hub = await lab.log(undefined, "hub", "dataset");
  train = await lab.run("training", "trainer");
  await lab.use(train, "hub");
  model = await lab.log(train, "model", "model");
  for (let index = 1; index <= 6; index++) {
    const run = await lab.run("eval", `sweep-${index}`);
    await lab.use(run, "hub");
    sweeps.push(run);
    scores.push(await lab.log(run, `score-${index}`, "score"));
  }
});
afterAll(() => server.close());

interface Node {
  id: string;
  kind: string;
  depth: number;
  memberKind?: string;
  type?: string;
  memberCount?: number;
  reason?: string;
  firstMembers?: { id: string; name: string }[];
}
const clusters = (graph: { nodes: Node[] }) => graph.nodes.filter((node) => node.kind === "cluster");
const members = (clusterId: string, query: Record<string, string | number>) =>
  server.api(
    "GET",
    `/projects/lab/lineage/clusters/${clusterId}/members?${new URLSearchParams({ node: "hub", ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) })}`,
  );

describe("lineage: clusters", () => {
  it("groups five or more same-type nodes with the same neighbours, layer by layer", async () => {
    const { body } = await lab.lineage("hub");
    const [runs, versions] = clusters(body).sort((a, b) => a.depth - b.depth) as [Node, Node];
    expect(runs).toMatchObject({ kind: "cluster", memberKind: "run", type: "eval", depth: 1, memberCount: 6 });
    expect(versions).toMatchObject({ kind: "cluster", memberKind: "version", type: "score", depth: 2, memberCount: 6 });
    expect(runs.firstMembers?.map((member) => member.name)).toEqual([
      "sweep-1",
      "sweep-2",
      "sweep-3",
      "sweep-4",
      "sweep-5",
    ]);
    expect(runs.id).toMatch(/^cl_[a-f0-9]{16}$/);
    expect(nodeSet(body)).toEqual([`${hub}@0`, `${train}@1`, `${model}@2`, `${runs.id}@1`, `${versions.id}@2`].sort());
    expect(edgeSet(body)).toEqual(
      [
        `${hub}>${train}:input`,
        `${train}>${model}:output`,
        `${hub}>${runs.id}:input`,
        `${runs.id}>${versions.id}:output`,
      ].sort(),
    );
  });

  it("names the same clusters again for the same query", async () => {
    const first = clusters((await lab.lineage("hub")).body).map((node) => node.id);
    const again = clusters((await lab.lineage("hub")).body).map((node) => node.id);
    expect(again.sort()).toEqual(first.sort());
  });

  it("leaves groups smaller than clusterMin alone", async () => {
    const { body } = await lab.lineage("hub", { clusterMin: 7 });
    expect(clusters(body)).toEqual([]);
    expect(body.nodes).toHaveLength(15);
  });

  it("shows every node with expandClusters", async () => {
    const { body } = await lab.lineage("hub", { expandClusters: true });
    expect(nodeSet(body)).toEqual(
      [
        `${hub}@0`,
        `${train}@1`,
        `${model}@2`,
        ...sweeps.map((id) => `${id}@1`),
        ...scores.map((id) => `${id}@2`),
      ].sort(),
    );
    expect(body.edges).toHaveLength(14);
  });

  it("pulls a member out on its own and keeps the rest clustered under the same id", async () => {
    const before = clusters((await lab.lineage("hub")).body).sort((a, b) => a.depth - b.depth);
    const { body } = await lab.lineage("hub", { pull: sweeps[2] as string });
    const after = clusters(body).sort((a, b) => a.depth - b.depth);
    expect(after.map((node) => node.id)).toEqual(before.map((node) => node.id));
    expect(after.map((node) => node.memberCount)).toEqual([5, 5]);
    expect(nodeSet(body)).toContain(`${sweeps[2]}@1`);
    expect(nodeSet(body)).toContain(`${scores[2]}@2`);
    expect(edgeSet(body)).toEqual(
      expect.arrayContaining([`${hub}>${sweeps[2]}:input`, `${sweeps[2]}>${scores[2]}:output`]),
    );
  });
});

describe("lineage: cluster members", () => {
  it("lists members by name, paged", async () => {
    const [runs] = clusters((await lab.lineage("hub")).body).sort((a, b) => a.depth - b.depth) as [Node];
    const page = await members(runs.id, { limit: 2, offset: 2 });
    expect(page.status).toBe(200);
    expect(page.body.cluster).toBe(runs.id);
    expect(page.body.total).toBe(6);
    expect(page.body.members.map((member: { name: string }) => member.name)).toEqual(["sweep-3", "sweep-4"]);
    expect(page.body.members[0]).toMatchObject({ kind: "run", jobType: "eval", depth: 1, id: sweeps[2] });
  });

  it("searches members by name", async () => {
    const [, scoreCluster] = clusters((await lab.lineage("hub")).body).sort((a, b) => a.depth - b.depth) as [
      Node,
      Node,
    ];
    const found = await members(scoreCluster.id, { q: "SCORE-5" });
    expect(found.body.total).toBe(1);
    expect(found.body.members[0]).toMatchObject({ id: scores[4], kind: "version", artifact: "score-5", version: "v0" });
  });

  it("answers 404 for a cluster the query does not make, 400 for a malformed id", async () => {
    const missing = await members("cl_0000000000000000", {});
    expect(missing.status).toBe(404);
    expect(missing.body.error.field).toBe("clusterId");
    expect((await members("nope", {})).body.error).toMatchObject({ code: "BAD_REQUEST", field: "clusterId" });
  });
});

describe("lineage: maxNodes", () => {
  it("keeps a layer that does not fit as clusters with counts, instead of cutting it", async () => {
    const { body } = await lab.lineage("hub", { expandClusters: true, maxNodes: 8 });
    expect(body.nodes.some((node: { id: string }) => node.id === hub)).toBe(true);
    const budget = clusters(body).filter((node) => node.reason === "budget");
    expect(budget.length).toBeGreaterThan(0);
    expect(body.nodes.length).toBeLessThanOrEqual(8);
    expect(body.truncated).not.toBe(false);
  });

  it("counts a cluster as one node", async () => {
    const { body } = await lab.lineage("hub", { maxNodes: 5 });
    expect(body.truncated).toBe(false);
    expect(body.nodes).toHaveLength(5);
  });
});
