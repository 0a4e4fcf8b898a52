import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Registry links on lineage version nodes, on a clock the test moves. Project `zoo`: `train` logs model v0
 * and v1 at t0. `model` is an organization registry, `vault` a restricted one `insider` is a viewer of.
 *   t1 v0 linked into model/zoo-classifier (production, best)   t2 v1 linked there (staging)
 *   t3 best moves to v1   t4 v0 unlinked   (v1 is also linked into vault/secret at t2)
 */
let now = Date.parse("2026-04-01T00:00:00.000Z");
const clock = { now: () => new Date(now) };
const minute = 60_000;
const instant = (ms: number) => new Date(ms).toISOString();

let server: TestServer;
let zoo: ReturnType<typeof lineageBuilder>;
const id = {} as Record<"train" | "v0" | "v1", string>;
const t = {} as Record<"t0" | "t1" | "t2" | "t3" | "t4", number>;
const key = {} as Record<"viewer" | "insider", string>;

async function ok(method: string, path: string, body?: unknown) {
  const response = await server.api(method, path, body);
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

beforeAll(async () => {
  server = await startTestServer({ clock });
  zoo = lineageBuilder(server, "zoo");
  t.t0 = now += minute;
  id.train = await zoo.run("training");
  id.v0 = await zoo.log(id.train, "classifier", "model");
  id.v1 = await zoo.log(id.train, "classifier", "model");
  await ok("POST", "/registries", { name: "model", visibility: "organization" });
  await ok("POST", "/registries", { name: "vault" });
  for (const name of ["viewer", "insider"] as const) key[name] = (await ok("POST", "/users", { name })).apiKey;
  await ok("PUT", "/projects/zoo/members/viewer", { role: "viewer" });
  await ok("PUT", "/projects/zoo/members/insider", { role: "viewer" });
  await ok("PUT", "/registries/vault/members/insider", { role: "viewer" });
  const collection = "/registries/model/collections/zoo-classifier";
  t.t1 = now += minute;
  await ok("POST", `${collection}/versions`, { project: "zoo", ref: "classifier:v0", aliases: ["production", "best"] });
  t.t2 = now += minute;
  await ok("POST", `${collection}/versions`, { project: "zoo", ref: "classifier:v1", aliases: ["staging"] });
  await ok("POST", "/registries/vault/collections/secret/versions", { project: "zoo", ref: "classifier:v1" });
  t.t3 = now += minute;
  await ok("PUT", `${collection}/aliases/best`, { version: "v1" });
  t.t4 = now += minute;
  await ok("DELETE", `${collection}/versions/v0`);
  now += minute;
});
afterAll(() => server.close());

type Link = { registry: string; collection: string; version: string; aliases: string[] };
type Answer = { body: { nodes: { id: string; registryLinks?: Link[] }[] } };
/** `registryLinks` of v0 and v1 in the train run's lineage, as `reader` gets it (the admin by default). */
async function linksOf(options: Record<string, string> = {}, reader?: string) {
  const query = new URLSearchParams({ node: id.train, upstream: "0", downstream: "1", ...options });
  const { status, body } = (await server.api("GET", `/projects/zoo/lineage?${query}`, undefined, reader)) as Answer & {
    status: number;
  };
  expect(status, JSON.stringify(body)).toBe(200);
  const of = (versionId: string) => body.nodes.find((node) => node.id === versionId)?.registryLinks;
  return { v0: of(id.v0), v1: of(id.v1), body };
}

describe("lineage: registry links on version nodes", () => {
  it("shows each linked version's collection vN and aliases, latest first; an unlinked version has none", async () => {
    const { v0, v1 } = await linksOf();
    expect(v0).toBeUndefined();
    expect(v1).toEqual([
      { registry: "model", collection: "zoo-classifier", version: "v1", aliases: ["latest", "best", "staging"] },
      { registry: "vault", collection: "secret", version: "v0", aliases: ["latest"] },
    ]);
  });

  it("shows links and aliases as they stood at asOf", async () => {
    const afterFirstLink = await linksOf({ asOf: instant(t.t1 + 1) });
    expect(afterFirstLink.v0).toEqual([
      { registry: "model", collection: "zoo-classifier", version: "v0", aliases: ["latest", "best", "production"] },
    ]);
    expect(afterFirstLink.v1).toBeUndefined();
    const beforeMove = await linksOf({ asOf: instant(t.t2 + 1) });
    expect(beforeMove.v0).toEqual([
      { registry: "model", collection: "zoo-classifier", version: "v0", aliases: ["best", "production"] },
    ]);
    expect(beforeMove.v1?.[0]).toEqual({
      registry: "model",
      collection: "zoo-classifier",
      version: "v1",
      aliases: ["latest", "staging"],
    });
    const afterMove = await linksOf({ asOf: instant(t.t3 + 1) });
    expect(afterMove.v0).toEqual([
      { registry: "model", collection: "zoo-classifier", version: "v0", aliases: ["production"] },
    ]);
    expect(afterMove.v1?.[0]?.aliases).toEqual(["latest", "best", "staging"]);
  });

  it("shows no link before the version was linked", async () => {
    const before = await linksOf({ asOf: instant(t.t0 + 1) });
    expect(before.v0).toBeUndefined();
    expect(before.v1).toBeUndefined();
  });

  it("never names a restricted registry to a reader who is not its member", async () => {
    const asViewer = await linksOf({}, key.viewer);
    expect(asViewer.v1).toEqual([
      { registry: "model", collection: "zoo-classifier", version: "v1", aliases: ["latest", "best", "staging"] },
    ]);
    expect(JSON.stringify(asViewer.body)).not.toMatch(/vault|secret/);
    const asInsider = await linksOf({}, key.insider);
    expect(asInsider.v1?.map((link) => link.registry)).toEqual(["model", "vault"]);
    const impact = await server.api("GET", `/projects/zoo/impact?node=${id.train}`, undefined, key.viewer);
    expect(impact.status).toBe(200);
    expect(JSON.stringify(impact.body)).not.toMatch(/vault|secret/);
    const path = await server.api(
      "GET",
      `/projects/zoo/lineage/path?from=${id.train}&to=${id.v1}`,
      undefined,
      key.viewer,
    );
    expect(path.status).toBe(200);
    expect(path.body.nodes[1].registryLinks).toHaveLength(1);
    expect(JSON.stringify(path.body)).not.toMatch(/vault|secret/);
  });
});
