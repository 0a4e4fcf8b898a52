import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawnEdges, drawnNodeIds, launchChromium, signedInPage } from "../fixtures/browser";
import { type HubProject, seedHubProject } from "../fixtures/hub-seed";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * A hub dataset used by 2,000 training runs, one of which logged a model that 300 evaluation runs used:
 * the graphs a person must be able to read in the web app, in headless Chromium.
 */
let server: TestServer;
let browser: Browser;
let hub: HubProject;

beforeAll(async () => {
  server = await startTestServer();
  const started = performance.now();
  hub = await seedHubProject(server, "hub", { trainingRuns: 2000, evalRuns: 300 });
  console.log(`[web] seeded 2,300 runs in ${Math.round(performance.now() - started)} ms`);
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const screenshotDir = process.env.PEDIGREE_UPDATE_DOCS === "1" ? "docs" : join(tmpdir(), "pedigree-screenshots");
const lineagePage = (version: string, query = "") =>
  `${server.url}/projects/hub/versions/${version}?tab=lineage${query}`;

/** The zoom of the graph's viewport, from its CSS transform (`translate(…) scale(z)`). */
async function viewportZoom(page: Page): Promise<number> {
  const style = (await page.locator(".react-flow__viewport").getAttribute("style")) ?? "";
  const zoom = /scale\(([\d.]+)\)/.exec(style)?.[1];
  if (!zoom) throw new Error(`no zoom in the viewport's style: ${style}`);
  return Number(zoom);
}

/** Every drawn node has an edge to another drawn node. */
async function expectNoOrphans(page: Page) {
  const ids = await drawnNodeIds(page);
  const edges = await drawnEdges(page);
  const touched = new Set(edges.flatMap((edge) => edge.split(":")[0]!.split(">")));
  if (ids.length > 1) expect(ids.filter((id) => !touched.has(id))).toEqual([]);
}

/** Text of the nodes inside the visible pane: each line's font size on screen (CSS px × zoom). */
async function visibleTextSizes(page: Page) {
  const zoom = await viewportZoom(page);
  const sizes = await page.getByTestId("graph").evaluate((graph) => {
    const pane = graph.getBoundingClientRect();
    const out: { text: string; px: number; height: number }[] = [];
    const view = graph.ownerDocument.defaultView!;
    for (const line of graph.querySelectorAll(".lineage-node > div")) {
      const box = line.getBoundingClientRect();
      if (box.bottom < pane.top || box.top > pane.bottom || box.right < pane.left || box.left > pane.right) continue;
      out.push({
        text: line.textContent ?? "",
        px: Number.parseFloat(view.getComputedStyle(line).fontSize),
        height: box.height,
      });
    }
    return out;
  });
  return { zoom, sizes: sizes.map((size) => ({ ...size, screenPx: size.px * zoom })) };
}

describe("web: a hub used by 2,000 runs", () => {
  it("draws the hub collapsed: its producer, one cluster of 2,000 runs, nothing orphaned", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(lineagePage(hub.hub));
    await expect.poll(() => drawnNodeIds(page), { timeout: 20_000 }).toContain(hub.producer);
    const cluster = page.locator(".lineage-node.cluster").first();
    expect(await cluster.textContent()).toContain("2000 train runs");
    expect(await cluster.getAttribute("title")).toContain("train-0000");
    await expectNoOrphans(page);
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, "web-hub-collapsed.png") });
    await page.close();
  });

  it("shows the next 50 of the cluster in a readable grid, text at least 10 px at the first view", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(lineagePage(hub.hub));
    await page.locator(".lineage-node.cluster").first().click();
    await page.getByTestId("show-more").click();
    await expect.poll(async () => (await drawnNodeIds(page)).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(50);
    const drawn = await drawnNodeIds(page);
    // producer, hub, model, 50 pulled runs and the cluster of the other 1,950.
    expect(drawn.length).toBeLessThanOrEqual(56);
    expect(await page.locator(".lineage-node.cluster").first().textContent()).toContain("1950 train runs");
    expect(page.url()).toContain("expand=cl_");
    expect(await page.getByTestId("cluster-shown").textContent()).toContain("50 more shown");
    await expectNoOrphans(page);

    const { zoom, sizes } = await visibleTextSizes(page);
    console.log(`[web] 50-run expansion: first view at zoom ${zoom.toFixed(2)}, ${sizes.length} text lines in view`);
    expect(sizes.length).toBeGreaterThan(20);
    for (const size of sizes) expect(size.screenPx, size.text).toBeGreaterThanOrEqual(10);

    // Wrapped into columns, not one column 50 cards tall.
    const tops = await page
      .locator(".react-flow__node")
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("style") ?? ""));
    const ys = tops.map((transform) => Number(/translate\([^,]+,\s*([-\d.]+)px/.exec(transform)?.[1] ?? 0));
    const xs = tops.map((transform) => Number(/translate\(([-\d.]+)px/.exec(transform)?.[1] ?? 0));
    const height = Math.max(...ys) - Math.min(...ys);
    const width = Math.max(...xs) - Math.min(...xs);
    console.log(`[web] 50-run expansion laid out ${Math.round(width)} × ${Math.round(height)} px`);
    expect(height).toBeLessThan(1600);

    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, "web-hub-expanded.png") });

    // Pans: dragging the pane moves the view.
    const before = await page.locator(".react-flow__viewport").getAttribute("style");
    const empty = await page.getByTestId("graph").evaluate((graph) => {
      const box = graph.getBoundingClientRect();
      for (let y = box.top + 20; y < box.bottom - 20; y += 15)
        for (let x = box.left + 60; x < box.right - 20; x += 15)
          if (graph.ownerDocument.elementFromPoint(x, y)?.classList.contains("react-flow__pane")) return { x, y };
      return null;
    });
    expect(empty).not.toBeNull();
    await page.mouse.move(empty!.x, empty!.y);
    await page.mouse.down();
    await page.mouse.move(empty!.x + 120, empty!.y + 80, { steps: 5 });
    await page.mouse.up();
    expect(await page.locator(".react-flow__viewport").getAttribute("style")).not.toBe(before);

    await page.close();
  });

  it("finds a run by name in the graph, highlights it and moves to it", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(lineagePage(hub.hub));
    await page.locator(".lineage-node.cluster").first().click();
    await page.getByTestId("show-more").click();
    await expect.poll(async () => (await drawnNodeIds(page)).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(50);
    await page.getByTestId("find").fill("train-0047");
    await expect.poll(() => page.getByTestId("find-count").textContent()).toBe("1 match");
    const found = page.locator(".lineage-node.found");
    expect(await found.count()).toBe(1);
    expect(await found.textContent()).toContain("train-0047");
    expect(await page.locator(".lineage-node.dimmed").count()).toBeGreaterThan(40);
    await page.getByTestId("find").press("Enter");
    const pane = (await page.getByTestId("graph").boundingBox())!;
    await expect
      .poll(async () => {
        const box = (await found.boundingBox())!;
        return (
          box.x >= pane.x &&
          box.x + box.width <= pane.x + pane.width &&
          box.y >= pane.y &&
          box.y <= pane.y + pane.height
        );
      })
      .toBe(true);
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, "web-hub-found.png") });

    // By alias and by id too.
    await page.getByTestId("find").fill("classifier:best");
    await expect.poll(() => page.locator(".lineage-node.found").getAttribute("data-testid")).toBe(`node-${hub.model}`);
    await page.getByTestId("find").fill(hub.producer);
    await expect
      .poll(() => page.locator(".lineage-node.found").getAttribute("data-testid"))
      .toBe(`node-${hub.producer}`);
    await page.close();
  });

  it("finds a run hidden in the collapsed cluster and shows it on its own", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(lineagePage(hub.hub));
    await expect.poll(() => drawnNodeIds(page), { timeout: 20_000 }).toContain(hub.producer);
    await page.getByTestId("find").fill("train-1234");
    await expect.poll(() => page.getByTestId("find-count").textContent()).toBe("no match");
    await expect
      .poll(() => page.getByTestId("find-in-clusters").textContent())
      .toContain("1 in the cluster of 2000 runs");
    await page.getByTestId("find-in-clusters").getByRole("button", { name: "Show" }).click();
    await expect.poll(() => page.getByTestId("find-count").textContent(), { timeout: 15_000 }).toBe("1 match");
    expect(await page.locator(".lineage-node.found").textContent()).toContain("train-1234");
    expect(page.url()).toContain("pull=");
    await expectNoOrphans(page);
    await page.close();
  });

  it("keeps every layer over the node budget as clusters, and says so per layer", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(lineagePage(hub.hub, "&expandClusters=true"));
    await page.getByTestId("truncated").waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("truncated").textContent()).toContain("Over the 500-node budget");
    const ids = await drawnNodeIds(page);
    expect(ids).toContain(hub.producer);
    expect(ids.length).toBeLessThanOrEqual(500);
    await expectNoOrphans(page);
    await page.close();
  });

  it("selects nodes from the keyboard: a focus ring, Enter opens the details, Escape lets go", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(lineagePage(hub.hub));
    await expect.poll(() => drawnNodeIds(page), { timeout: 20_000 }).toContain(hub.producer);
    const node = page.locator(`.react-flow__node[data-id="${hub.producer}"]`);
    await node.focus();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const ring = await node.locator(".lineage-node").evaluate((element) => {
      const style = element.ownerDocument.defaultView!.getComputedStyle(element);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    expect(ring).toBe("solid 3px");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByTestId("details-title").textContent()).toBe("prepare-corpus");
    expect(page.url()).toContain(`selected=${hub.producer}`);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.url()).not.toContain("selected=");
    await page.close();
  });
});

describe("web: a model with 300 evaluation runs", () => {
  it("keeps the upstream producer and the hub next to the cluster of 300 evals, nothing orphaned", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(lineagePage(hub.model, "&upstream=3"));
    await expect.poll(() => drawnNodeIds(page), { timeout: 20_000 }).toContain(hub.hub);
    const ids = await drawnNodeIds(page);
    expect(ids).toContain(hub.producer);
    const clusters = await page.locator(".lineage-node.cluster").allTextContents();
    expect(clusters.some((text) => text.includes("300 evaluation runs"))).toBe(true);
    await expectNoOrphans(page);
    await page.close();
  });
});

describe("web: lists of a project with 2,301 runs", () => {
  it("pages the runs to the last one", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/hub`);
    await expect.poll(() => page.getByTestId("runs-list-range").textContent()).toBe("1–50 of 2301");
    expect(await page.title()).toBe("Project hub · Pedigree");
    let pages = 1;
    while (await page.getByTestId("runs-list-next").isEnabled()) {
      const first = await page.getByTestId("run-row").first().textContent();
      await page.getByTestId("runs-list-next").click();
      await expect.poll(() => page.getByTestId("run-row").first().textContent()).not.toBe(first);
      pages++;
    }
    expect(pages).toBe(Math.ceil(2301 / 50));
    expect(await page.getByTestId("runs-list-range").textContent()).toBe(`${(pages - 1) * 50 + 1}–2301 of 2301`);
    // Newest first: the last run listed is the first one logged.
    expect(await page.getByTestId("run-row").last().textContent()).toContain("prepare-corpus");
    await page.close();
  });

  it("searches the runs by name and filters them by job type, on Enter", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/hub`);
    await expect.poll(() => page.getByTestId("runs-list-range").textContent()).toBe("1–50 of 2301");
    await page.getByTestId("runs-search").fill("eval-01");
    await page.getByTestId("runs-search").press("Enter");
    await expect.poll(() => page.getByTestId("runs-list-range").textContent()).toBe("1–50 of 100");
    await page.getByTestId("runs-search").fill("");
    await page.getByTestId("runs-job-type").fill("evaluation");
    await page.getByTestId("runs-job-type").press("Enter");
    await expect.poll(() => page.getByTestId("runs-list-range").textContent()).toBe("1–50 of 300");
    await page.getByTestId("runs-list-next").click();
    await expect.poll(() => page.getByTestId("runs-list-range").textContent()).toBe("51–100 of 300");
    await page.close();
  });
});

describe("web: used by 2,000 runs", () => {
  it("pages the hub's consumers with their count and searches them by name", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/hub/versions/${hub.hub}`);
    await expect.poll(() => page.getByTestId("consumers-list-range").textContent()).toBe("1–20 of 2000");
    expect(await page.getByTestId("producers-list-range").textContent()).toBe("1–1 of 1");
    await page.getByTestId("consumers-list-next").click();
    await expect.poll(() => page.getByTestId("consumers-list-range").textContent()).toBe("21–40 of 2000");
    await page.getByTestId("consumers-search").fill("train-1999");
    await page.getByTestId("consumers-search").press("Enter");
    await expect.poll(() => page.getByTestId("consumers-list-range").textContent()).toBe("1–1 of 1");
    expect(await page.getByTestId("details-consumers").textContent()).toContain("train-1999");
    await page.close();
  });

  it("finds runs, artifacts and versions by name from the header's search box", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(server.url);
    await page.getByTestId("global-search").fill("train-19");
    await page.getByTestId("global-search").press("Enter");
    await page.waitForURL(/\/search\?q=train-19/);
    await expect.poll(() => page.getByTestId("search-run").textContent()).toContain("(100)");
    expect(await page.title()).toBe("Search “train-19” · Pedigree");
    await page.getByTestId("global-search").fill("classifier");
    await page.getByTestId("global-search").press("Enter");
    await expect.poll(() => page.getByTestId("search-version").textContent()).toContain("classifier:v0");
    await page.getByTestId("search-artifact").getByText("classifier").click();
    await page.waitForURL(/\/projects\/hub\/artifacts\/classifier$/);
    await expect.poll(() => page.getByTestId("versions-list-range").textContent()).toBe("1–1 of 1");
    await page.close();
  });
});
