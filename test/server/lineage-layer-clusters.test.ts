import { ClusterMembersQuery, LineageQuery, type LineageQueryInput } from "@pedigree/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLineage, listClusterMembers } from "../../packages/server/src/lineage/graph";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Large layers are clustered in the database; these graphs are small, so the tests force that path with
 * `largeLayer: 1` and compare its answers with the in-memory path's (`largeLayer` past any layer).
 *
 * lab: raw → ingest → hub; hub read by a trainer (logs a model, read by 6 evals logging a result each) and by
 * 7 sweeps (each logs a score), all read by one summary run. `many`: a hub read by two runs of each of ten job
 * types (ten clusters in one layer with clusterMin 2). `gen`: the same sweeps, one also logging a generated table. `loop`: a run that
 * logs its own input again.
 */
let server: TestServer;
const sweeps: string[] = [];
const scores: string[] = [];
let loopBase: string;
let summaryRun: string;
/** The server admin reads every project. */
let everything: { reader: string; all: true };

beforeAll(async () => {
  server = await startTestServer();
  everything = { reader: (await server.api("GET", "/me")).body.user.id, all: true };
  const lab = lineageBuilder(server, "lab");
  await lab.log(undefined, "raw", "dataset");
  const ingest = await lab.run("ingest", "ingest");
  await lab.use(ingest, "raw");
  await lab.log(ingest, "hub", "dataset");
  const train = await lab.run("training", "trainer");
  await lab.use(train, "hub");
  await lab.log(train, "model", "model");
  for (let index = 1; index <= 6; index++) {
    const run = await lab.run("eval", `eval-${index}`);
    await lab.use(run, "model");
    await lab.log(run, `result-${index}`, "eval-results");
  }
  for (let index = 1; index <= 7; index++) {
    const run = await lab.run("sweep", `sweep-${index}`);
    await lab.use(run, "hub");
    sweeps.push(run);
    scores.push(await lab.log(run, `score-${index}`, "score"));
  }
  const summary = await lab.run("summary", "summary");
  for (let index = 1; index <= 7; index++) await lab.use(summary, `score-${index}`);
  summaryRun = summary;

  const gen = lineageBuilder(server, "gen");
  await gen.log(undefined, "hub", "dataset");
  for (let index = 1; index <= 6; index++) {
    const run = await gen.run("sweep", `sweep-${index}`);
    await gen.use(run, "hub");
    await gen.log(run, `score-${index}`, "score");
    if (index === 4) await gen.log(run, "table", "run-table", { generated: true });
  }

  const many = lineageBuilder(server, "many");
  await many.log(undefined, "hub", "dataset");
  for (let index = 0; index < 20; index++) {
    const run = await many.run(`job-${index % 10}`, `run-${index}`);
    await many.use(run, "hub");
    await many.log(run, `out-${index}`, "output");
  }

  const loop = lineageBuilder(server, "loop");
  loopBase = await loop.log(undefined, "seed", "dataset", { content: 1 });
  for (let index = 1; index <= 6; index++) {
    const run = await loop.run("refit", `refit-${index}`);
    await loop.use(run, "seed");
    await loop.log(run, `fit-${index}`, "model");
  }
  const again = await loop.run("refit", "relogger");
  await loop.use(again, "seed");
  await loop.log(again, "seed", "dataset", { content: 1 });
});
afterAll(() => server.close());

const sorted = <T>(items: T[]) => items.map((item) => JSON.stringify(item)).sort();

async function bothPaths(project: string, input: LineageQueryInput) {
  const query = LineageQuery.parse(input);
  const [inMemory, inDatabase] = await Promise.all([
    server.database.read((db) => getLineage(db, project, query, { largeLayer: 1_000_000, visibility: everything })),
    server.database.read((db) => getLineage(db, project, query, { largeLayer: 1, visibility: everything })),
  ]);
  return { inMemory, inDatabase };
}

function expectSameGraph({ inMemory, inDatabase }: Awaited<ReturnType<typeof bothPaths>>) {
  expect(inDatabase.base).toBe(inMemory.base);
  expect(sorted(inDatabase.nodes)).toEqual(sorted(inMemory.nodes));
  expect(sorted(inDatabase.edges)).toEqual(sorted(inMemory.edges));
  expect(inDatabase.truncated).toEqual(inMemory.truncated);
}

describe("lineage: large layers clustered in the database", () => {
  const cases: [string, LineageQueryInput][] = [
    ["two hops down from the hub", { node: "hub" }],
    ["three hops down, clusters of clusters", { node: "hub", upstream: 0, downstream: 4 }],
    ["upstream and downstream", { node: "hub", upstream: 2, downstream: 3 }],
    ["a lower clusterMin", { node: "hub", downstream: 4, clusterMin: 2 }],
    ["groups below clusterMin", { node: "hub", downstream: 4, clusterMin: 7 }],
    ["upstream from a score", { node: "score-3", upstream: 4, downstream: 0 }],
    ["maxNodes cutting a layer", { node: "hub", downstream: 4, clusterMin: 8, maxNodes: 12 }],
  ];
  it.each(cases)("gives the in-memory graph: %s", async (_name, input) => {
    const answers = await bothPaths("lab", input);
    expectSameGraph(answers);
    expect(answers.inMemory.nodes.length).toBeGreaterThan(1);
  });

  it("gives the in-memory graph upstream from a run with many inputs", async () => {
    expectSameGraph(await bothPaths("lab", { node: summaryRun, upstream: 4, downstream: 0 }));
    expectSameGraph(await bothPaths("lab", { node: summaryRun, upstream: 3, downstream: 1, clusterMin: 3 }));
  });

  it("gives the in-memory graph for a layer of many clusters", async () => {
    expectSameGraph(await bothPaths("many", { node: "hub", clusterMin: 2 }));
    expectSameGraph(await bothPaths("many", { node: "hub", clusterMin: 2, pull: "run-3" }));
  });

  it("keeps a pulled member out under the same cluster id", async () => {
    const answers = await bothPaths("lab", { node: "hub", pull: sweeps[2] as string });
    expectSameGraph(answers);
    expect(answers.inDatabase.nodes.map((node) => node.id)).toContain(sweeps[2]);
    expect(answers.inDatabase.nodes.map((node) => node.id)).toContain(scores[2]);
  });

  it("falls back to the in-memory path on a hidden generated version", async () => {
    expectSameGraph(await bothPaths("gen", { node: "hub" }));
    expectSameGraph(await bothPaths("gen", { node: "hub", includeGenerated: true }));
  });

  it("falls back to the in-memory path on a run that logs its own input again", async () => {
    expectSameGraph(await bothPaths("loop", { node: loopBase, downstream: 3 }));
    expectSameGraph(await bothPaths("loop", { node: loopBase, upstream: 2, downstream: 2 }));
  });

  it("lists and searches a cluster's members the same way", async () => {
    const { inDatabase } = await bothPaths("lab", { node: "hub", downstream: 3 });
    const clusters = inDatabase.nodes.filter((node) => node.kind === "cluster");
    expect(clusters.length).toBeGreaterThanOrEqual(3);
    for (const cluster of clusters) {
      for (const page of [{}, { limit: "2", offset: "1" }, { q: "-3" }, { q: "SWEEP" }]) {
        const query = ClusterMembersQuery.parse({ node: "hub", downstream: 3, ...page });
        const [inMemory, inDb] = await Promise.all([
          server.database.read((db) =>
            listClusterMembers(db, "lab", cluster.id, query, { largeLayer: 1_000_000, visibility: everything }),
          ),
          server.database.read((db) =>
            listClusterMembers(db, "lab", cluster.id, query, { largeLayer: 1, visibility: everything }),
          ),
        ]);
        expect(inDb).toEqual(inMemory);
      }
    }
  });
});
