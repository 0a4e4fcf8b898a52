import { LineageQuery, type LineageQueryInput } from "@pedigree/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectRows, sql } from "../../packages/server/src/db/client";
import { resolveBaseNode } from "../../packages/server/src/lineage/base";
import { getLineage, listClusterMembers } from "../../packages/server/src/lineage/graph";
import type { ProjectVisibility } from "../../packages/server/src/lineage/visibility";
import { walkLineage } from "../../packages/server/src/lineage/walk";
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

async function bothWays(input: LineageQueryInput, project = "large") {
  const query = LineageQuery.parse(input);
  const [fetched, grouped] = await Promise.all([
    server.database.read((db) => getLineage(db, project, query, { largeLayer: 1_000_000, visibility: everything })),
    server.database.read((db) => getLineage(db, project, query, { largeLayer: 1, visibility: everything })),
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

/**
 * A hub's consumers and what they logged are counted from index ranges (lineage/hub-hops.ts, the two-hop
 * paths kept on write in `lineage_hops`); the answer must still be the fully fetched graph's, where paths
 * meet again: two consumers logging the same content (one version), a consumer with a second input, and
 * `asOf` between the edges of one path. (A consumer logging the hub itself, or a later layer reaching a member
 * of an earlier group, is a cycle a grouped layer cannot see: walk.ts says so.)
 */
describe("lineage: a hub's layers counted from the two-hop paths", () => {
  const lab = () => lineageBuilder(server, "paths");
  const at: { middle?: string } = {};
  const hub: { id?: string } = {};

  beforeAll(async () => {
    const paths = lab();
    const prep = await paths.run("preprocess", "prep");
    hub.id = await paths.log(prep, "hub", "dataset", { content: 1 });
    const other = await paths.log(prep, "other", "dataset", { content: 3 });
    for (let index = 0; index < 9; index++) {
      const run = await paths.run("eval", `eval-${index}`);
      await paths.use(run, "hub");
      if (index === 4) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        at.middle = new Date().toISOString();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await paths.log(run, `score-${index % 4}`, "score");
      if (index < 3) await paths.log(run, "shared", "score", { content: 2 });
      if (index === 6) await paths.use(run, "other");
      if (index === 7) await paths.log(run, `code-${index}`, "code", { generated: true });
    }
    for (let index = 0; index < 3; index++) {
      const run = await paths.run("training", `train-${index}`);
      await paths.log(run, `model-${index}`, "model");
      await paths.use(run, "hub");
      const evaluate = await paths.run("eval", `model-eval-${index}`);
      await paths.use(evaluate, `model-${index}`);
      await paths.log(evaluate, `model-score-${index}`, "score");
    }
    expect(other).toBeTruthy();
  });

  const cases: [string, () => LineageQueryInput][] = [
    ["two hops down, expanded", () => ({ node: "hub:v0", downstream: 2, expandClusters: true, maxNodes: 5 })],
    ["four hops down", () => ({ node: "hub:v0", downstream: 4, expandClusters: true, maxNodes: 6 })],
    [
      "generated shown",
      () => ({ node: "hub:v0", downstream: 3, includeGenerated: true, expandClusters: true, maxNodes: 7 }),
    ],
    [
      "as of a moment inside the consumers' paths",
      () => ({ node: "hub:v0", downstream: 2, expandClusters: true, maxNodes: 4, asOf: at.middle }),
    ],
    [
      "over the cap on the second hop only",
      () => ({ node: "hub:v0", downstream: 2, expandClusters: true, maxNodes: 13 }),
    ],
  ];
  it.each(cases)("answers the fetched graph fitted to the budget: %s", async (_name, input) => {
    const { fetched, grouped } = await bothWays(input(), "paths");
    expect(withoutFirstMembers(grouped.nodes)).toEqual(withoutFirstMembers(fetched.nodes));
    expect(grouped.edges.map((edge) => JSON.stringify(edge)).sort()).toEqual(
      fetched.edges.map((edge) => JSON.stringify(edge)).sort(),
    );
    expect(grouped.truncated).toEqual(fetched.truncated);
  });

  it("keeps the paths of runs that log the same content at once, from the same inputs", async () => {
    const paths = lab();
    const source = await paths.run("preprocess", "sources");
    await paths.log(source, "left", "dataset");
    await paths.log(source, "right", "dataset");
    const runs = await Promise.all(Array.from({ length: 10 }, (_, index) => paths.run("merge", `merge-${index}`)));
    await Promise.all(runs.map((run) => Promise.all([paths.use(run, "left"), paths.use(run, "right")])));
    const merged = await Promise.all(runs.map((run) => paths.log(run, "merged", "dataset", { content: 7 })));
    expect(new Set(merged).size).toBe(1);
  });

  it("keeps every two-hop path of the edges, with the moment it first existed", async () => {
    const [kept, recomputed] = await server.database.read(async (db) => [
      await selectRows(
        db,
        sql`select from_version_id, run_job_type, to_version_id, to_type, to_generated, to_project, reached_at
          from lineage_hops
          order by 1, 2, 3`,
      ),
      await selectRows(
        db,
        sql`select i.version_id as from_version_id, i.run_job_type, o.version_id as to_version_id,
            o.version_type as to_type, o.version_generated as to_generated, v.project as to_project,
            min(greatest(i.created_at, o.created_at)) as reached_at
          from run_inputs i join run_outputs o on o.run_id = i.run_id join versions v on v.id = o.version_id
          group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3`,
      ),
    ]);
    expect(kept.length).toBeGreaterThan(20);
    expect(kept).toEqual(recomputed);
    expect(hub.id).toBeTruthy();
  });
});

describe("lineage: a grouped layer and a node reached both ways", () => {
  beforeAll(async () => {
    const loops = lineageBuilder(server, "loops");
    const prep = await loops.run("preprocess", "prep");
    await loops.log(prep, "hub", "dataset", { content: 1 });
    for (let index = 0; index < 6; index++) {
      const run = await loops.run("eval", `check-${index}`);
      await loops.use(run, "hub");
      await loops.log(run, `report-${index}`, "report");
      // Logs its input unchanged: the same version, so the run is also one of the hub's producers.
      if (index === 2) await loops.log(run, "hub", "dataset", { content: 1 });
    }
  });

  it.each([
    ["one hop each way", { node: "hub:v0", upstream: 1, downstream: 1, expandClusters: true, maxNodes: 3 }],
    ["two hops down", { node: "hub:v0", upstream: 1, downstream: 2, expandClusters: true, maxNodes: 4 }],
  ] as [string, LineageQueryInput][])("shows it upstream only, as the fetched graph does: %s", async (_name, input) => {
    const { fetched, grouped } = await bothWays(input, "loops");
    expect(withoutFirstMembers(grouped.nodes)).toEqual(withoutFirstMembers(fetched.nodes));
    expect(grouped.edges.map((edge) => JSON.stringify(edge)).sort()).toEqual(
      fetched.edges.map((edge) => JSON.stringify(edge)).sort(),
    );
    expect(grouped.truncated).toEqual(fetched.truncated);
    expect(grouped.truncated).not.toBe(false);
  });
});

/**
 * A reader who sees only some projects: a hub's layers are grouped only when every node of the range is in a
 * project it sees; one consumer in a project it cannot see makes the layer fetched, and that consumer is left out.
 */
describe("lineage: a hub's layers for a reader who does not see every project", () => {
  const reader = (projects: string[]): ProjectVisibility => ({
    reader: "alice",
    all: false,
    projects: new Set(projects),
  });
  const both = (input: LineageQueryInput, project: string, visibility: ProjectVisibility) => {
    const query = LineageQuery.parse(input);
    return Promise.all([
      server.database.read((db) => getLineage(db, project, query, { largeLayer: 1_000_000, visibility })),
      server.database.read((db) => getLineage(db, project, query, { largeLayer: 1, visibility })),
    ]);
  };

  beforeAll(async () => {
    for (const project of ["mine", "mixed"]) {
      const lab = lineageBuilder(server, project);
      const prep = await lab.run("preprocess", "prep");
      await lab.log(prep, "hub", "dataset");
      for (let index = 0; index < 7; index++) {
        const run = await lab.run("eval", `eval-${index}`);
        await lab.use(run, "hub");
        await lab.log(run, `score-${index}`, "score");
      }
    }
    // A run of a project the reader cannot see uses the hub of `mixed`.
    const outsider = await server.api("POST", "/projects/theirs/runs", { jobType: "eval", name: "outsider" });
    const used = await server.api("POST", `/projects/theirs/runs/${outsider.body.id}/inputs`, {
      ref: "hub",
      project: "mixed",
    });
    expect(used.status).toBe(200);
  });

  const input: LineageQueryInput = { node: "hub", downstream: 2, expandClusters: true, maxNodes: 3 };
  /** The kinds of the walk's grouped nodes, in the database, for a reader who sees `projects`. */
  const groupedLayers = (project: string, projects: string[]) =>
    server.database.read(async (db) => {
      const base = await resolveBaseNode(db, project, { node: "hub" }, { reader: "admin", field: "node" });
      const walk = await walkLineage(db, base, {
        upstream: 0,
        downstream: 2,
        largeLayer: 3,
        visibleProjects: projects,
      });
      return [...walk.nodes.values()].filter((node) => node.group).map((node) => `${node.depth}:${node.kind}`);
    });

  it("groups a layer wholly in projects the reader sees, as the fetched graph fitted to the budget", async () => {
    const [fetched, grouped] = await both(input, "mine", reader(["mine"]));
    expect(withoutFirstMembers(grouped.nodes)).toEqual(withoutFirstMembers(fetched.nodes));
    expect(grouped.edges.map((edge) => JSON.stringify(edge)).sort()).toEqual(
      fetched.edges.map((edge) => JSON.stringify(edge)).sort(),
    );
    const evals = grouped.nodes.find((node) => node.kind === "cluster" && node.type === "eval");
    expect(evals).toMatchObject({ memberCount: 7, reason: "budget" });
    expect((await groupedLayers("mine", ["mine"])).sort()).toEqual(["1:run", "2:version"]);
  });

  it("fetches a layer with a node of a project the reader cannot see, and leaves that node out", async () => {
    const [fetched, grouped] = await both(input, "mixed", reader(["mixed"]));
    expect(withoutFirstMembers(grouped.nodes)).toEqual(withoutFirstMembers(fetched.nodes));
    const evals = grouped.nodes.find((node) => node.kind === "cluster" && node.type === "eval");
    expect(evals).toMatchObject({ memberCount: 7 });
    expect(JSON.stringify(grouped)).not.toContain("outsider");
    expect(await groupedLayers("mixed", ["mixed"])).toEqual([]);
    // A server admin sees the outsider among the hub's consumers.
    const [, admin] = await both(input, "mixed", everything);
    expect(admin.nodes.find((node) => node.kind === "cluster" && node.type === "eval")).toMatchObject({
      memberCount: 8,
    });
  });
});
