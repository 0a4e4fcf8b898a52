import { LineageQuery, type LineageQueryInput } from "@pedigree/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLineage, listClusterMembers } from "../../packages/server/src/lineage/graph";
import type { ProjectVisibility } from "../../packages/server/src/lineage/visibility";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Large layers are grouped in the database (counted by kind and type from the edges, never fetched). Here the
 * threshold is forced down (`largeLayer: 1`, so any layer over maxNodes is grouped) and the answer must equal the
 * fully fetched graph fitted to the same budget: the budget clusters of `fitBudget`, with the same ids, counts,
 * edges and `truncated` report (first members aside: a group lists its first members by id).
 */
let server: TestServer;
const everything: ProjectVisibility = { reader: "admin", all: true };
const ids = { evals: [] as string[], trainings: [] as string[] };

beforeAll(async () => {
  server = await startTestServer();
  const lab = lineageBuilder(server, "large");
  const prep = await lab.run("preprocess", "prep");
  await lab.log(prep, "hub", "dataset");
  for (let index = 0; index < 14; index++) {
    const run = await lab.run("eval", `eval-${String(index).padStart(2, "0")}`);
    await lab.use(run, "hub");
    await lab.log(run, `score-${index}`, "score");
    if (index < 4) await lab.log(run, `code-${index}`, "code", { generated: true });
    ids.evals.push(run);
  }
  for (let index = 0; index < 6; index++) {
    const run = await lab.run("training", `train-${index}`);
    await lab.use(run, "hub");
    await lab.log(run, `model-${index}`, "model");
    const evaluate = await lab.run("eval", `model-eval-${index}`);
    await lab.use(evaluate, `model-${index}`);
    ids.trainings.push(run);
  }
});
afterAll(() => server.close());

const withoutFirstMembers = (nodes: { id: string; firstMembers?: unknown }[]) =>
  nodes.map(({ firstMembers: _first, ...node }) => JSON.stringify(node)).sort();

async function bothWays(input: LineageQueryInput) {
  const query = LineageQuery.parse(input);
  const [fetched, grouped] = await Promise.all([
    server.database.read((db) => getLineage(db, "large", query, { largeLayer: 1_000_000, visibility: everything })),
    server.database.read((db) => getLineage(db, "large", query, { largeLayer: 1, visibility: everything })),
  ]);
  return { fetched, grouped };
}

describe("lineage: large layers grouped in the database", () => {
  const cases: [string, LineageQueryInput][] = [
    ["two hops down, expanded", { node: "hub", downstream: 2, expandClusters: true, maxNodes: 6 }],
    ["three hops down, expanded", { node: "hub", downstream: 3, expandClusters: true, maxNodes: 8 }],
    [
      "up and down, generated shown",
      { node: "hub", upstream: 1, downstream: 2, expandClusters: true, includeGenerated: true, maxNodes: 8 },
    ],
    ["clusters on", { node: "hub", downstream: 2, maxNodes: 3 }],
    [
      "an artifact-type filter",
      { node: "hub", downstream: 3, expandClusters: true, artifactTypes: "dataset,model", maxNodes: 6 },
    ],
  ];
  it.each(cases)("answers the fetched graph fitted to the budget: %s", async (_name, input) => {
    const { fetched, grouped } = await bothWays(input);
    expect(withoutFirstMembers(grouped.nodes)).toEqual(withoutFirstMembers(fetched.nodes));
    expect(grouped.edges.map((edge) => JSON.stringify(edge)).sort()).toEqual(
      fetched.edges.map((edge) => JSON.stringify(edge)).sort(),
    );
    expect(grouped.truncated).toEqual(fetched.truncated);
    expect(grouped.truncated).not.toBe(false);
  });

  it("counts a group by kind and type, with its first members by id", async () => {
    const { grouped } = await bothWays({ node: "hub", upstream: 0, downstream: 1, expandClusters: true, maxNodes: 3 });
    const evals = grouped.nodes.find((node) => node.kind === "cluster" && node.type === "eval");
    expect(evals).toMatchObject({ memberCount: 14, reason: "budget", depth: 1 });
    const first = [...ids.evals].sort().slice(0, 5);
    expect(evals?.kind === "cluster" && evals.firstMembers.map((member) => member.id)).toEqual(first);
  });

  it("lists and searches a group's members by name, paged", async () => {
    const input = { node: "hub", upstream: 0, downstream: 1, expandClusters: true, maxNodes: 3 };
    const { grouped } = await bothWays(input);
    const evals = grouped.nodes.find((node) => node.kind === "cluster" && node.type === "eval") as { id: string };
    const page = await server.database.read((db) =>
      listClusterMembers(
        db,
        "large",
        evals.id,
        { ...LineageQuery.parse(input), q: "EVAL-1", limit: 2, offset: 1 },
        {
          largeLayer: 1,
          visibility: everything,
        },
      ),
    );
    expect(page.total).toBe(4);
    expect(page.members.map((member) => member.id)).toEqual(ids.evals.slice(11, 13));
  });
});
