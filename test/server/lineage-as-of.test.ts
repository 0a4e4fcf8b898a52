import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeSet, lineageBuilder, nodeSet } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Time travel, on a clock the test moves:
 *   t1 train logs model:v0 (alias production)   t2 evaluate uses model:production
 *   t3 retrain logs model:v1, production moves to v1   t4 evaluate-again uses model:production
 */
let now = Date.parse("2026-03-01T00:00:00.000Z");
const clock = { now: () => new Date(now) };
const minute = 60_000;
const instant = (ms: number) => new Date(ms).toISOString();

let server: TestServer;
let lab: ReturnType<typeof lineageBuilder>;
const id = {} as Record<"data" | "train" | "v0" | "evaluate" | "retrain" | "v1" | "again", string>;
const t = {} as Record<"t1" | "t2" | "t3" | "t4", number>;

beforeAll(async () => {
  server = await startTestServer({ clock });
  lab = lineageBuilder(server, "travel");
  id.data = await lab.log(undefined, "data", "dataset");
  t.t1 = now += minute;
  id.train = await lab.run("training");
  await lab.use(id.train, "data");
  id.v0 = await lab.log(id.train, "model", "model", { aliases: ["production"] });
  t.t2 = now += minute;
  id.evaluate = await lab.run("eval");
  await lab.use(id.evaluate, "model:production");
  t.t3 = now += minute;
  id.retrain = await lab.run("training");
  await lab.use(id.retrain, "data");
  id.v1 = await lab.log(id.retrain, "model", "model", { aliases: ["production"] });
  t.t4 = now += minute;
  id.again = await lab.run("eval");
  await lab.use(id.again, "model:production");
});
afterAll(() => server.close());

describe("lineage: asOf", () => {
  it("resolves the base as the alias stood then, with the aliases it held then", async () => {
    const { body } = await lab.lineage("model:production", { asOf: instant(t.t2 + 1), upstream: 0, downstream: 0 });
    expect(body.base).toBe(id.v0);
    expect(body.nodes[0]).toMatchObject({ version: "v0", aliases: ["latest", "production"] });
    const today = await lab.lineage(id.v0, { upstream: 0, downstream: 0 });
    expect(today.body.nodes[0].aliases).toEqual([]);
  });

  it("leaves out edges and versions made later", async () => {
    const before = await lab.lineage(id.data, { asOf: instant(t.t2 + 1) });
    expect(nodeSet(before.body)).toEqual([`${id.data}@0`, `${id.train}@1`, `${id.v0}@2`].sort());
    const after = await lab.lineage(id.data, { asOf: instant(t.t3 + 1), downstream: 3 });
    expect(nodeSet(after.body)).toEqual(
      [`${id.data}@0`, `${id.train}@1`, `${id.v0}@2`, `${id.evaluate}@3`, `${id.retrain}@1`, `${id.v1}@2`].sort(),
    );
    expect(edgeSet(after.body)).not.toContain(`${id.v1}>${id.again}:input`);
  });

  it("answers 404 for a base that did not exist yet", async () => {
    const { status, body } = await lab.lineage("model:v1", { asOf: instant(t.t2) });
    expect(status).toBe(404);
    expect(body.error.field).toBe("node");
  });

  it("keeps what each run asked for: production meant v0 for one eval and v1 for the other", async () => {
    const first = await lab.lineage(id.evaluate, { upstream: 1, downstream: 0 });
    const second = await lab.lineage(id.again, { upstream: 1, downstream: 0 });
    expect(nodeSet(first.body)).toEqual([`${id.v0}@-1`, `${id.evaluate}@0`].sort());
    expect(nodeSet(second.body)).toEqual([`${id.v1}@-1`, `${id.again}@0`].sort());
  });
});
