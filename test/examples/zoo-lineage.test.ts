import { Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runZooScenario, type ZooLineage } from "../../examples/zoo/scenario";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let pd: Pedigree;
let zoo: ZooLineage;
beforeAll(async () => {
  server = await startTestServer();
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
  zoo = await runZooScenario(pd, "zoo");
});
afterAll(() => server.close());

const nodesOf = (graph: { nodes: { id: string; depth: number }[] }) =>
  graph.nodes.map((node) => `${node.id}@${node.depth}`).sort();
const edgesOf = (graph: { edges: { source: string; target: string; kind: string }[] }) =>
  graph.edges.map((edge) => `${edge.source}>${edge.target}:${edge.kind}`).sort();

describe("examples/zoo: lineage", () => {
  it("shows the model between its training data and its evaluation", async () => {
    const graph = await pd.lineage(zoo.model.ref, { upstream: 3, downstream: 2 });
    expect(graph.base).toBe(zoo.model.id);
    expect(nodesOf(graph)).toEqual(
      [
        `${zoo.model.id}@0`,
        `${zoo.trainingRun}@-1`,
        `${zoo.dataset.id}@-2`,
        ...zoo.splitRuns.map((run) => `${run}@-3`),
        `${zoo.evaluationRun}@1`,
      ].sort(),
    );
    expect(edgesOf(graph)).toEqual(
      [
        `${zoo.trainingRun}>${zoo.model.id}:output`,
        `${zoo.dataset.id}>${zoo.trainingRun}:input`,
        ...zoo.splitRuns.map((run) => `${run}>${zoo.dataset.id}:output`),
        `${zoo.model.id}>${zoo.evaluationRun}:input`,
      ].sort(),
    );
  });

  it("clusters the three split runs once clusterMin allows it", async () => {
    const graph = await pd.lineage("split_zoo_dataset", { upstream: 1, downstream: 0, clusterMin: 3 });
    expect(graph.nodes).toHaveLength(2);
    const cluster = graph.nodes.find((node) => node.kind === "cluster");
    expect(cluster).toMatchObject({ memberKind: "run", type: "split_zoo_data", memberCount: 3, depth: -1 });
  });

  it("answers the dataset's impact and the path from dataset to evaluation", async () => {
    const impact = await pd.impact("split_zoo_dataset:v0");
    expect(impact.runCount).toBe(2);
    expect(impact.artifactTypes).toEqual([
      expect.objectContaining({ type: "model", count: 1, versions: [expect.objectContaining({ id: zoo.model.id })] }),
    ]);
    const path = await pd.lineagePath(zoo.dataset.ref, zoo.evaluationRun);
    expect(path.nodes?.map((node) => node.id)).toEqual([zoo.dataset.id, zoo.evaluationRun]);
  });
});
