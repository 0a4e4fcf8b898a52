import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configurePropertySeed } from "../fixtures/fast-check-seed";
import { edgeSet, lineageBuilder, nodeSet } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

configurePropertySeed();

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** A random history: root versions, then runs that read earlier versions and log new ones (or log one again). */
const history = fc.record({
  roots: fc.integer({ min: 1, max: 3 }),
  runs: fc.array(
    fc.record({
      jobType: fc.constantFrom("training", "eval", "preprocess"),
      inputs: fc.uniqueArray(fc.nat(40), { maxLength: 3 }),
      outputs: fc.array(fc.record({ type: fc.constantFrom("dataset", "model"), relog: fc.option(fc.nat(40)) }), {
        maxLength: 3,
      }),
    }),
    { minLength: 1, maxLength: 7 },
  ),
  base: fc.nat(100),
  upstream: fc.integer({ min: 0, max: 4 }),
  downstream: fc.integer({ min: 0, max: 4 }),
});
type History = typeof history extends fc.Arbitrary<infer T> ? T : never;

interface Edge {
  source: string;
  target: string;
  kind: "input" | "output";
}

/** Builds the history through the API; answers the node ids and the edges it made, forward in time. */
async function build(project: string, plan: History) {
  const lab = lineageBuilder(server, project);
  const versions: { id: string; name: string; type: string; content: number }[] = [];
  const runs: string[] = [];
  const edges = new Map<string, Edge>();
  for (let index = 0; index < plan.roots; index++) {
    const id = await lab.log(undefined, `root${index}`, "dataset", { content: index });
    versions.push({ id, name: `root${index}`, type: "dataset", content: index });
  }
  for (const [runIndex, step] of plan.runs.entries()) {
    const run = await lab.run(step.jobType);
    runs.push(run);
    for (const input of new Set(step.inputs.map((pick) => pick % versions.length))) {
      const version = versions[input] as (typeof versions)[number];
      await lab.use(run, version.id);
      edges.set(`${version.id}>${run}`, { source: version.id, target: run, kind: "input" });
    }
    for (const [outputIndex, output] of step.outputs.entries()) {
      const again = output.relog === null ? undefined : versions[output.relog % versions.length];
      const logged = again ?? {
        name: `a${runIndex}x${outputIndex}`,
        type: output.type,
        content: 1000 + runIndex * 10 + outputIndex,
      };
      const id = await lab.log(run, logged.name, logged.type, { content: logged.content });
      if (!again) versions.push({ id, ...logged });
      edges.set(`${run}>${id}`, { source: run, target: id, kind: "output" });
    }
  }
  return { lab, nodes: [...versions.map((version) => version.id), ...runs], edges: [...edges.values()] };
}

/**
 * The plain breadth-first search the answer must equal: one search per direction, each node at its nearest hop
 * (a node both upstream and downstream, as when a run logs its own input again, shows upstream), every edge
 * leaving a node inside the budget.
 */
function breadthFirst(base: string, edges: Edge[], upstream: number, downstream: number) {
  const nodes = new Map<string, number>([[base, 0]]);
  const walked = new Map<string, Edge>();
  for (const [direction, budget] of [
    [-1, upstream],
    [1, downstream],
  ] as const) {
    const seen = new Set([base]);
    let frontier = [base];
    for (let hop = 1; hop <= budget && frontier.length > 0; hop++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const edge of edges) {
          const from = direction === 1 ? edge.source : edge.target;
          const to = direction === 1 ? edge.target : edge.source;
          if (from !== id) continue;
          walked.set(`${edge.source}>${edge.target}`, edge);
          if (seen.has(to)) continue;
          seen.add(to);
          next.push(to);
          if (!nodes.has(to)) nodes.set(to, direction * hop);
        }
      }
      frontier = next;
    }
  }
  return {
    nodes: [...nodes].map(([id, depth]) => ({ id, kind: "", depth })),
    edges: [...walked.values()],
  };
}

describe("lineage: property", () => {
  it("with filters off and clusters expanded, equals a plain breadth-first search", async () => {
    let project = 0;
    await fc.assert(
      fc.asyncProperty(history, async (plan) => {
        const { lab, nodes, edges } = await build(`bfs${project++}`, plan);
        const base = nodes[plan.base % nodes.length] as string;
        const { status, body } = await lab.lineage(base, {
          upstream: plan.upstream,
          downstream: plan.downstream,
          expandClusters: true,
          includeGenerated: true,
          maxNodes: 10_000,
        });
        expect(status).toBe(200);
        const expected = breadthFirst(base, edges, plan.upstream, plan.downstream);
        expect(nodeSet(body)).toEqual(nodeSet(expected));
        expect(edgeSet(body)).toEqual(edgeSet(expected));
        expect(body.truncated).toBe(false);
      }),
      { numRuns: 25 },
    );
  }, 180_000);

  it("under any budget and options, answers at most maxNodes nodes, every one connected to the base", async () => {
    let project = 0;
    const options = fc.record({
      maxNodes: fc.integer({ min: 1, max: 12 }),
      extended: fc.boolean(),
      includeGenerated: fc.boolean(),
      expandClusters: fc.boolean(),
      clusterMin: fc.integer({ min: 2, max: 4 }),
      jobTypes: fc.option(fc.constantFrom("training", "eval", "training,preprocess")),
    });
    await fc.assert(
      fc.asyncProperty(history, options, async (plan, { jobTypes, ...rest }) => {
        const { lab, nodes } = await build(`budget${project++}`, plan);
        const base = nodes[plan.base % nodes.length] as string;
        const { status, body } = await lab.lineage(base, {
          upstream: plan.upstream,
          downstream: plan.downstream,
          ...rest,
          ...(jobTypes ? { jobTypes } : {}),
        });
        expect(status).toBe(200);
        expect(body.nodes.length).toBeLessThanOrEqual(rest.maxNodes);
        const ids = new Set<string>(body.nodes.map((node: { id: string }) => node.id));
        const reached = new Set<string>([body.base]);
        for (let grew = true; grew; ) {
          grew = false;
          for (const edge of body.edges as Edge[]) {
            expect(ids.has(edge.source) && ids.has(edge.target)).toBe(true);
            if (reached.has(edge.source) !== reached.has(edge.target)) {
              reached.add(edge.source);
              reached.add(edge.target);
              grew = true;
            }
          }
        }
        expect([...ids].filter((id) => !reached.has(id))).toEqual([]);
      }),
      { numRuns: 20 },
    );
  }, 180_000);
});
