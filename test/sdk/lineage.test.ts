import { Artifact, NotFoundError, Pedigree, ValidationError } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let pd: Pedigree;

const reference = (name: string, type: string, uri: string) => {
  const artifact = new Artifact({ name, type });
  artifact.addReference(uri, { name: "data" });
  return artifact;
};

/** dataset → train → model → evaluate ×6 → score ×6 (a run cluster and a version cluster). */
let dataset: string;
let model: string;
let trainRun: string;
const evalRuns: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "sdk-lineage", pedigreeDir: server.dir });
  const ingest = await pd.init({ jobType: "ingest" });
  dataset = (await ingest.logArtifact(reference("mnist", "dataset", "s3://data/mnist"))).id;
  await ingest.finish();
  const train = await pd.init({ jobType: "training", name: "train-1" });
  trainRun = train.id;
  await train.useArtifact("mnist");
  model = (await train.logArtifact(reference("classifier", "model", "s3://models/classifier"))).id;
  await train.finish();
  for (let index = 1; index <= 6; index++) {
    const evaluate = await pd.init({ jobType: "eval", name: `eval-${index}` });
    await evaluate.useArtifact("classifier:latest");
    await evaluate.logArtifact(reference(`score-${index}`, "score", `s3://scores/${index}`));
    await evaluate.finish();
    evalRuns.push(evaluate.id);
  }
});
afterAll(() => server.close());

describe("sdk: lineage", () => {
  it("pd.lineage answers typed nodes and edges around a ref", async () => {
    const graph = await pd.lineage("classifier", { upstream: 2, downstream: 0 });
    expect(graph.base).toBe(model);
    expect(graph.nodes.map((node) => `${node.kind}:${node.depth}`).sort()).toEqual([
      "run:-1",
      "version:-2",
      "version:0",
    ]);
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { source: dataset, target: trainRun, kind: "input" },
        { source: trainRun, target: model, kind: "output" },
      ]),
    );
    const train = graph.nodes.find((node) => node.kind === "run");
    expect(train?.kind === "run" && train.name).toBe("train-1");
  });

  it("version.lineage and run.lineage walk from themselves, passing list options", async () => {
    const version = await pd.artifact("classifier:v0");
    const clustered = await version.lineage({ downstream: 2, upstream: 0 });
    const clusters = clustered.nodes.filter((node) => node.kind === "cluster");
    expect(
      clusters.map((node) => node.kind === "cluster" && `${node.memberKind}:${node.type}:${node.memberCount}`).sort(),
    ).toEqual(["run:eval:6", "version:score:6"]);
    const filtered = await version.lineage({
      downstream: 2,
      upstream: 0,
      jobTypes: ["training"],
      expandClusters: true,
    });
    expect(filtered.nodes.filter((node) => node.kind === "version" && node.type === "score")).toHaveLength(6);
    expect(filtered.nodes.some((node) => node.kind === "run")).toBe(false);
    expect(new Set(filtered.edges.map((edge) => `${edge.source}:${edge.kind}`))).toEqual(new Set([`${model}:hidden`]));

    const run = await pd.init({ jobType: "eval" });
    await run.useArtifact("classifier");
    const around = await run.lineage({ upstream: 1, downstream: 0 });
    expect(around.base).toBe(run.id);
    expect(around.nodes.map((node) => node.id).sort()).toEqual([model, run.id].sort());
    await run.finish();
  });

  it("pages and searches a cluster's members", async () => {
    const graph = await pd.lineage("classifier", { upstream: 0, downstream: 1 });
    const cluster = graph.nodes.find((node) => node.kind === "cluster");
    if (!cluster) throw new Error("expected a run cluster");
    const page = await pd.clusterMembers(cluster.id, "classifier", {
      upstream: 0,
      downstream: 1,
      q: "eval-",
      limit: 4,
    });
    expect(page.total).toBeGreaterThanOrEqual(6);
    expect(page.members).toHaveLength(4);
    const pulled = await pd.lineage("classifier", { upstream: 0, downstream: 1, pull: [evalRuns[0] as string] });
    expect(pulled.nodes.some((node) => node.id === evalRuns[0])).toBe(true);
  });

  it("pd.impact groups descendants; pd.lineagePath finds the chain", async () => {
    const impact = await pd.impact("mnist");
    expect(impact.artifactTypes.map((group) => [group.type, group.count])).toEqual([
      ["score", 6],
      ["model", 1],
    ]);
    const path = await pd.lineagePath("score-3", "mnist");
    expect(path.nodes?.map((node) => node.kind)).toEqual(["version", "run", "version", "run", "version"]);
    expect(path.nodes?.[0]?.id).toBe(dataset);
    expect(path.nodes?.[4]?.kind === "version" && path.nodes[4].artifact).toBe("score-3");
  });

  it("turns a missing base into NotFoundError and a bad option into ValidationError", async () => {
    await expect(pd.lineage("no-such-thing")).rejects.toBeInstanceOf(NotFoundError);
    await expect(pd.lineage("classifier", { maxNodes: 50_000 })).rejects.toMatchObject({ field: "maxNodes" });
    await expect(pd.lineage("classifier", { maxNodes: 50_000 })).rejects.toBeInstanceOf(ValidationError);
  });
});
