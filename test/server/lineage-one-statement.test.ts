import { LineageQuery } from "@pedigree/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../packages/server/src/db/client";
import { artifacts, projects, runInputs, runOutputs, runs, versions } from "../../packages/server/src/db/schema";
import { getLineage } from "../../packages/server/src/lineage/graph";
import { type ProjectVisibility, unseenNodes } from "../../packages/server/src/lineage/visibility";
import { type WalkedGraph, type WalkedNode, walkLineage } from "../../packages/server/src/lineage/walk";
import { walkSmallLineage } from "../../packages/server/src/lineage/walk-small";
import { configurePropertySeed } from "../fixtures/fast-check-seed";
import { lineageBuilder, nodeSet } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * An ordinary lineage query walks in one statement (lineage/walk-small.ts) and takes at most three round trips
 * to the database: base, walk, summaries. The one-statement walk must answer exactly what the per-hop walk
 * answers (walk.ts), on any graph (cycles included: a run may log a version that already exists), both ways,
 * at any `asOf`, and leave out exactly the nodes the visibility rule leaves out; over its limit it answers
 * nothing and the per-hop walk takes over.
 */
configurePropertySeed();

let server: TestServer;
let owner: string;
beforeAll(async () => {
  server = await startTestServer();
  owner = (await server.api("GET", "/me")).body.user.id;
});
afterAll(() => server.close());

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const day = (n: number) => new Date(T0 + n * 86_400_000);

const edge = fc.record({ run: fc.nat(20), version: fc.nat(20), at: fc.nat(2) });
const plan = fc.record({
  versions: fc.array(
    fc.record({ project: fc.nat(2), type: fc.constantFrom("dataset", "model"), generated: fc.boolean() }),
    { minLength: 1, maxLength: 5 },
  ),
  runs: fc.array(fc.record({ project: fc.nat(2), jobType: fc.constantFrom("training", "eval") }), {
    minLength: 1,
    maxLength: 4,
  }),
  inputs: fc.array(edge, { maxLength: 14 }),
  outputs: fc.array(edge, { maxLength: 10 }),
  base: fc.nat(40),
  baseIsRun: fc.boolean(),
  upstream: fc.integer({ min: 0, max: 4 }),
  downstream: fc.integer({ min: 0, max: 4 }),
  asOf: fc.option(fc.nat(2)),
  largeLayer: fc.option(fc.integer({ min: 1, max: 16 })),
  visible: fc.subarray([1, 2]),
});
type Plan = typeof plan extends fc.Arbitrary<infer T> ? T : never;

/** Writes the graph's rows straight into the tables (the edge trigger fills their ends); answers the base node. */
async function build(
  db: Db,
  prefix: string,
  graph: Plan,
): Promise<{ base: WalkedNode; project: (n: number) => string }> {
  const project = (n: number) => `${prefix}p${n}`;
  await db.insert(projects).values([0, 1, 2].map((n) => ({ name: project(n) })));
  const made = await db
    .insert(artifacts)
    .values(
      graph.versions.map((v, i) => ({ project: project(v.project), name: `a${i}`, type: v.type, versionCount: 1 })),
    )
    .returning({ id: artifacts.id });
  const versionId = (i: number) => `${prefix}v${i % graph.versions.length}`;
  const runId = (i: number) => `${prefix}r${i % graph.runs.length}`;
  await db.insert(versions).values(
    graph.versions.map((v, i) => ({
      id: versionId(i),
      project: project(v.project),
      artifactId: (made[i] as { id: number }).id,
      index: 0,
      state: "committed" as const,
      digest: `d${i}`,
      manifest: [],
      size: 0,
      fileCount: 0,
      generated: v.generated,
      createdBy: owner,
      committedAt: day(0),
    })),
  );
  await db.insert(runs).values(
    graph.runs.map((r, i) => ({
      id: runId(i),
      project: project(r.project),
      name: `run-${i}`,
      ordinal: i,
      jobType: r.jobType,
      createdBy: owner,
    })),
  );
  const unique = <T extends { run: number; version: number }>(list: T[]) => [
    ...new Map(list.map((e) => [`${runId(e.run)}>${versionId(e.version)}`, e])).values(),
  ];
  const inputs = unique(graph.inputs);
  const outputs = unique(graph.outputs);
  if (inputs.length > 0)
    await db.insert(runInputs).values(
      inputs.map((e) => ({
        runId: runId(e.run),
        versionId: versionId(e.version),
        requestedRef: "x",
        createdAt: day(e.at),
      })),
    );
  if (outputs.length > 0)
    await db
      .insert(runOutputs)
      .values(outputs.map((e) => ({ runId: runId(e.run), versionId: versionId(e.version), createdAt: day(e.at) })));
  const base: WalkedNode = graph.baseIsRun
    ? {
        id: runId(graph.base),
        kind: "run",
        depth: 0,
        type: (graph.runs[graph.base % graph.runs.length] as Plan["runs"][number]).jobType,
        label: `run-${graph.base % graph.runs.length}`,
        generated: false,
      }
    : {
        id: versionId(graph.base),
        kind: "version",
        depth: 0,
        type: (graph.versions[graph.base % graph.versions.length] as Plan["versions"][number]).type,
        label: `a${graph.base % graph.versions.length}:v0`,
        generated: (graph.versions[graph.base % graph.versions.length] as Plan["versions"][number]).generated,
      };
  return { base, project };
}

/** Every node (groups by their count) and edge, sorted: the walk's answer whatever the order rows came in. */
const normalized = (graph: WalkedGraph) => ({
  nodes: [...graph.nodes.values()]
    .map(({ id, kind, depth, type, label, generated, group }) =>
      JSON.stringify({ id, kind, depth, type, label, generated, group: group?.count }),
    )
    .sort(),
  edges: graph.edges.map((e) => `${e.source}>${e.target}:${e.kind}`).sort(),
});

describe("lineage: the walk in one statement", () => {
  it("answers what the per-hop walk answers, and leaves out what the visibility rule leaves out", async () => {
    let count = 0;
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(plan, async (graph) => {
        const prefix = `w${count++}_`;
        await server.database.transaction(async (db) => {
          const { base, project } = await build(db, prefix, graph);
          const visibility: ProjectVisibility = {
            reader: owner,
            all: false,
            projects: new Set(graph.visible.map(project)),
          };
          const options = {
            upstream: graph.upstream,
            downstream: graph.downstream,
            asOf: graph.asOf === null ? undefined : day(graph.asOf),
            largeLayer: graph.largeLayer ?? undefined,
          };
          const small = await walkSmallLineage(db, base, { ...options, project: project(0), visibility });
          const perHop = await walkLineage(db, base, options);
          if (options.largeLayer === undefined) expect(small).toBeDefined();
          if (!small) return;
          answered++;
          expect(normalized(small.graph)).toEqual(normalized(perHop));
          const others = [...perHop.nodes.keys()].filter((id) => id !== base.id);
          expect([...small.unseen].sort()).toEqual([...(await unseenNodes(db, others, project(0), visibility))].sort());
          const admin = await walkSmallLineage(db, base, {
            ...options,
            project: project(0),
            visibility: { reader: owner, all: true },
          });
          expect(admin?.unseen.size).toBe(0);
        });
      }),
      { numRuns: 100 },
    );
    expect(answered).toBeGreaterThan(50);
  }, 180_000);

  it("answers nothing once the walk reaches more rows than the large-layer threshold", async () => {
    await server.database.transaction(async (db) => {
      const graph: Plan = {
        versions: [{ project: 0, type: "dataset", generated: false }],
        runs: Array.from({ length: 6 }, () => ({ project: 0, jobType: "eval" })),
        inputs: Array.from({ length: 6 }, (_, run) => ({ run, version: 0, at: 0 })),
        outputs: [],
        base: 0,
        baseIsRun: false,
        upstream: 0,
        downstream: 1,
        asOf: null,
        largeLayer: null,
        visible: [],
      };
      const { base, project } = await build(db, "over_", graph);
      const options = {
        upstream: 0,
        downstream: 1,
        project: project(0),
        visibility: { reader: owner, all: true as const },
      };
      // The base twice (both directions) and its six consumers: eight rows.
      expect(await walkSmallLineage(db, base, { ...options, largeLayer: 7 })).toBeUndefined();
      const fits = await walkSmallLineage(db, base, { ...options, largeLayer: 8 });
      expect(fits?.graph.nodes.size).toBe(7);
    });
  });
});

/** Runs `work` counting the statements it sends through `db` (drizzle's query logger sees every one). */
async function countStatements<T>(db: Db, work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const session = (db as unknown as { session: { logger: { logQuery(query: string): void } } }).session;
  const statements: string[] = [];
  const logger = session.logger;
  session.logger = { logQuery: (query) => statements.push(query) };
  try {
    return { result: await work(), statements };
  } finally {
    session.logger = logger;
  }
}

describe("lineage: round trips of an ordinary query", () => {
  const id: Record<string, string> = {};
  beforeAll(async () => {
    // raw → prep → split → train → model → eval → score, and a run of another project that used the model.
    const lab = lineageBuilder(server, "trips");
    id.raw = await lab.log(undefined, "raw", "dataset");
    const prep = await lab.run("preprocess");
    await lab.use(prep, id.raw);
    id.split = await lab.log(prep, "split", "dataset");
    const train = await lab.run("training");
    await lab.use(train, id.split);
    id.model = await lab.log(train, "model", "model");
    const evaluate = await lab.run("eval");
    await lab.use(evaluate, id.model);
    id.score = await lab.log(evaluate, "score", "score");
    const elsewhere = await server.api("POST", "/projects/hidden/runs", { jobType: "eval" });
    id.elsewhere = elsewhere.body.id;
    expect(
      (await server.api("POST", `/projects/hidden/runs/${id.elsewhere}/inputs`, { ref: "model", project: "trips" }))
        .status,
    ).toBe(200);
    Object.assign(id, { prep, train, evaluate });
  });

  const query = () => LineageQuery.parse({ node: id.model, upstream: 3, downstream: 3 });

  it("takes at most three round trips for a reader who sees every project", async () => {
    const { result, statements } = await server.database.read((db) =>
      countStatements(db, () => getLineage(db, "trips", query(), { visibility: { reader: owner, all: true } })),
    );
    expect(statements.length).toBeLessThanOrEqual(3);
    expect(result.nodes.map((node) => node.id).sort()).toEqual(
      [id.split, id.train, id.model, id.evaluate, id.score, id.prep, id.elsewhere].sort(),
    );
    expect(nodeSet(result)).toContain(`${id.prep}@-3`);
  });

  it("takes at most three round trips for a reader who sees some projects, and leaves the others out", async () => {
    const visibility: ProjectVisibility = { reader: owner, all: false, projects: new Set(["trips"]) };
    const { result, statements } = await server.database.read((db) =>
      countStatements(db, () => getLineage(db, "trips", query(), { visibility })),
    );
    expect(statements.length).toBeLessThanOrEqual(3);
    expect(result.nodes.map((node) => node.id).sort()).toEqual(
      [id.split, id.train, id.model, id.evaluate, id.score, id.prep].sort(),
    );
  });
});
