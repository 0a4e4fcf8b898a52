import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawnNodeIds, launchChromium, signedInPage } from "../fixtures/browser";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Registry refs on version nodes, and a minimap that leaves the nodes alone, in Chromium. Project `reg`:
 *   raw → clean → clean-data → split → split-data → train → model-0 … model-11
 * seven layers, the last twelve nodes tall: fitted to the pane, it reaches the pane's corners. model-0 is
 * linked into `model/zoo-classifier` as `production`.
 */
let server: TestServer;
let browser: Browser;
let raw: string;
let train: string;
const models: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const graph = lineageBuilder(server, "reg");
  raw = await graph.log(undefined, "raw", "dataset");
  let previous = raw;
  for (const step of ["clean", "split"]) {
    const run = await graph.run(step, step);
    await graph.use(run, previous);
    previous = await graph.log(run, `${step}-data`, "dataset");
  }
  train = await graph.run("train", "train");
  await graph.use(train, previous);
  for (let index = 0; index < 12; index++) models.push(await graph.log(train, `model-${index}`, "model"));
  expect((await server.api("POST", "/registries", { name: "model" })).status).toBe(201);
  const linked = await server.api("POST", "/registries/model/collections/zoo-classifier/versions", {
    project: "reg",
    ref: models[0],
    aliases: ["production"],
  });
  expect(linked.status, JSON.stringify(linked.body)).toBe(201);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const versionPage = (id: string, query = "") => `${server.url}/projects/reg/versions/${id}?tab=lineage${query}`;

type Box = { x: number; y: number; width: number; height: number };
const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Page boxes of every drawn node card, by node id. */
async function nodeBoxes(page: Page): Promise<{ id: string; box: Box }[]> {
  return page.locator(".react-flow__node [data-testid^='node-']").evaluateAll((elements) =>
    elements.map((element) => {
      const { x, y, width, height } = element.getBoundingClientRect();
      return { id: element.getAttribute("data-testid")!.slice("node-".length), box: { x, y, width, height } };
    }),
  );
}

describe("web: registry refs on version nodes", () => {
  it("shows a linked version's registry/collection:alias on its node, in its tooltip and in its details", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(versionPage(models[0]!));
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toContain(train);
    const node = page.getByTestId(`node-${models[0]}`);
    const badge = node.getByTestId("registry-ref");
    await expect.poll(() => badge.textContent()).toBe("model/zoo-classifier:production");
    // Readable: inside the card, not cut off by its edge or spilling out of it.
    const [card, line] = [(await node.boundingBox())!, (await badge.boundingBox())!];
    expect(line.x + line.width).toBeLessThanOrEqual(card.x + card.width);
    expect(line.y + line.height).toBeLessThanOrEqual(card.y + card.height);
    expect(await node.getAttribute("title")).toContain("in model/zoo-classifier as v0 (latest, production)");
    // A version nobody linked carries none.
    expect(await page.getByTestId(`node-${models[1]}`).getByTestId("registry-ref").count()).toBe(0);

    await node.click();
    const links = page.getByTestId("details-registry-links");
    await expect.poll(() => links.textContent()).toContain("model/zoo-classifier:v0");
    expect(await links.textContent()).toContain("production");
    await page.close();
  });
});

describe("web: the minimap", () => {
  it("covers no node after fit view, and a click by its corner selects the node there", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(versionPage(raw, "&downstream=6&expandClusters=true"));
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toEqual(expect.arrayContaining(models));
    await page.getByTestId("toggle-minimap").click();
    const minimap = page.locator(".react-flow__minimap");
    await minimap.waitFor();
    await page.locator(".react-flow__controls-fitview").click();
    const map = (await minimap.boundingBox())!;
    const canvas = (await page.getByTestId("graph-canvas").boundingBox())!;
    // Fitted: every node lies in the canvas, so none is merely clipped, and none lies under the minimap.
    await expect
      .poll(async () => (await nodeBoxes(page)).filter(({ box }) => !intersects(box, canvas)).map(({ id }) => id))
      .toEqual([]);
    expect((await nodeBoxes(page)).filter(({ box }) => intersects(box, map)).map(({ id }) => id)).toEqual([]);

    // The node nearest the minimap takes the click aimed at it.
    const centre = (box: Box) => ({ x: box.x + box.width / 2, y: box.y + box.height / 2 });
    const distance = (box: Box) => Math.hypot(centre(box).x - centre(map).x, centre(box).y - centre(map).y);
    const [nearest] = (await nodeBoxes(page)).sort((a, b) => distance(a.box) - distance(b.box));
    await page.mouse.click(centre(nearest!.box).x, centre(nearest!.box).y);
    await expect.poll(() => page.getByTestId(`node-${nearest!.id}`).getAttribute("class")).toContain("selected");
    expect(new URL(page.url()).searchParams.get("selected")).toBe(nearest!.id);
    await page.close();
  });
});
