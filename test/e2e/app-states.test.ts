import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawnNodeIds, launchChromium, signedInPage } from "../fixtures/browser";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/** Page titles, breadcrumbs, errors and sign-out, hop inputs and the action history's filters, in Chromium. */
let server: TestServer;
let browser: Browser;
let dataset: string;
let model: string;
let trainer: string;

beforeAll(async () => {
  server = await startTestServer();
  const graph = lineageBuilder(server, "states");
  const prepare = await graph.run("prepare", "prepare-data");
  dataset = await graph.log(prepare, "corpus", "dataset");
  trainer = await graph.run("train", "train-net");
  await graph.use(trainer, dataset);
  model = await graph.log(trainer, "net", "model");
  expect((await server.api("POST", "/registries", { name: "nets" })).status).toBe(201);
  const linked = await server.api("POST", "/registries/nets/collections/net/versions", {
    project: "states",
    ref: model,
  });
  expect(linked.status).toBe(201);
  for (let index = 0; index < 14; index++) {
    const alias = `stage-${index}`;
    expect(
      (await server.api("PUT", `/registries/nets/collections/net/aliases/${alias}`, { version: "v0" })).status,
    ).toBe(200);
    expect((await server.api("DELETE", `/registries/nets/collections/net/aliases/${alias}`)).status).toBe(204);
  }
  for (let index = 1; index < 60; index++)
    await graph.log(undefined, "corpus", "dataset", index === 42 ? { aliases: ["best"] } : {});
  await graph.log(trainer, "code-snapshot", "code", { generated: true });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const versionPage = (id: string, query = "") => `${server.url}/projects/states/versions/${id}${query}`;
const lineageRequests = (page: Page) => {
  const seen: string[] = [];
  page.on("request", (request) => {
    if (/\/api\/v1\/projects\/[^/]+\/lineage\?/.test(request.url())) seen.push(request.url());
  });
  return seen;
};

describe("web: names, titles and breadcrumbs", () => {
  it("names the version in the breadcrumbs and the page title, on both tabs", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(versionPage(model));
    await expect.poll(() => page.getByTestId("breadcrumbs").textContent()).toBe("states / net:v0");
    expect(await page.title()).toBe("net:v0 · states · Pedigree");
    await page.getByTestId("tab-lineage").click();
    await expect.poll(() => page.title()).toBe("Lineage of net:v0 · states · Pedigree");
    expect(await page.getByTestId("breadcrumbs").textContent()).toBe("states / net:v0 / lineage");
    await page.goto(`${server.url}/projects/states/runs/${trainer}`);
    await expect.poll(() => page.title()).toBe("run train-net · states · Pedigree");
    await page.goto(`${server.url}/registries/nets/collections/net`);
    await expect.poll(() => page.title()).toBe("nets/net · Pedigree");
    await page.close();
  });

  it("shows a run's tags, author and duration", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/states/runs/${trainer}`);
    await expect.poll(() => page.getByTestId("details-author").textContent()).toMatch(/\S/);
    expect(await page.getByTestId("details-duration").textContent()).toMatch(/\d+ (s|min|h).* so far/);
    expect(await page.getByTestId("details-tags").textContent()).toBe("—");
    await page.close();
  });
});

describe("web: errors", () => {
  it("keeps the graph drawn when a refetch fails, says why, and draws the new one on Retry", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(versionPage(model, "?tab=lineage&upstream=1"));
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toEqual([model, trainer].sort());
    await page.route("**/api/v1/projects/states/lineage?**", (route) => route.abort());
    await page.getByTestId("option-upstream").fill("2");
    await page.getByTestId("error").waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("error").textContent()).toContain("the server did not answer");
    expect(await drawnNodeIds(page)).toEqual([model, trainer].sort());
    await page.unroute("**/api/v1/projects/states/lineage?**");
    await page.getByTestId("retry").click();
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toContain(dataset);
    expect(await page.getByTestId("error").count()).toBe(0);
    await page.close();
  });

  it("sends the user back to sign-in with a message once their key is revoked", async () => {
    const created = await server.api("POST", "/keys", { name: "browser" });
    expect(created.status).toBe(201);
    const page = await signedInPage(browser, created.body.apiKey);
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId("user").textContent()).toBe("admin");
    // Revoke only once the home page has settled: a read still in flight would meet the revoked key and
    // sign the user out before the click below (the path this test follows is the user's next action).
    await page.getByTestId("projects").getByText("states").waitFor();
    await page.waitForLoadState("networkidle");
    expect((await server.api("DELETE", `/keys/${created.body.key.id}`)).status).toBe(200);
    await page.getByTestId("projects").getByText("states").click();
    await page.getByTestId("sign-in-error").waitFor();
    expect(await page.getByTestId("sign-in-error").textContent()).toContain("revoked");
    expect(await page.getByTestId("user").count()).toBe(0);
    await page.getByTestId("api-key").fill(server.apiKey);
    await page.getByTestId("sign-in").click();
    await expect.poll(() => page.getByTestId("user").textContent()).toBe("admin");
    await page.close();
  });
});

describe("web: the lineage pane", () => {
  it("fills the window; the minimap, details panel and view options fold away; a legend and tooltips explain", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(versionPage(model, "?tab=lineage"));
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toContain(dataset);
    const viewport = page.viewportSize()!;
    const pane = async () => (await page.getByTestId("graph").boundingBox())!;
    // The graph reaches the bottom of the window.
    expect(viewport.height - ((await pane()).y + (await pane()).height)).toBeLessThan(40);
    expect(await page.getByTestId("legend").textContent()).toContain("cluster");
    expect(await page.getByTestId(`node-${model}`).getAttribute("title")).toContain("net:v0");

    expect(await page.locator(".react-flow__minimap").count()).toBe(0);
    await page.getByTestId("toggle-minimap").click();
    await page.locator(".react-flow__minimap").waitFor();
    await page.getByTestId("toggle-minimap").click();
    await expect.poll(() => page.locator(".react-flow__minimap").count()).toBe(0);

    const withPanel = (await pane()).width;
    await page.getByTestId("toggle-panel").click();
    await expect.poll(() => page.getByTestId("side-panel").count()).toBe(0);
    await expect.poll(async () => (await pane()).width).toBeGreaterThan(withPanel + 200);
    const withControls = (await pane()).height;
    await page.getByTestId("toggle-controls").click();
    await expect.poll(() => page.getByTestId("view-controls").count()).toBe(0);
    await expect.poll(async () => (await pane()).height).toBeGreaterThan(withControls + 20);
    // Opening a node brings the details panel back.
    await page.getByTestId(`node-${trainer}`).click();
    await expect.poll(() => page.getByTestId("details-title").textContent()).toBe("train-net");
    await page.getByTestId("toggle-controls").click();
    await page.close();
  });

  it("lets nodes be dragged", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(versionPage(model, "?tab=lineage"));
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toContain(dataset);
    const node = page.getByTestId(`node-${dataset}`);
    const before = (await node.boundingBox())!;
    await page.mouse.move(before.x + 40, before.y + 30);
    await page.mouse.down();
    await page.mouse.move(before.x + 40, before.y + 180, { steps: 8 });
    await page.mouse.up();
    await expect.poll(async () => (await node.boundingBox())!.y).toBeGreaterThan(before.y + 100);
    await page.close();
  });
});

describe("web: hop inputs", () => {
  it("asks once after typing stops, and never rewrites what is typed", async () => {
    const page = await signedInPage(browser, server.apiKey);
    const requests = lineageRequests(page);
    await page.goto(versionPage(model, "?tab=lineage"));
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toContain(dataset);
    const before = requests.length;
    const upstream = page.getByTestId("option-upstream");
    await upstream.fill("");
    await upstream.pressSequentially("12", { delay: 80 });
    await expect.poll(() => page.url()).toContain("upstream=12");
    await page.waitForTimeout(300);
    expect(requests.slice(before).map((url) => new URL(url).searchParams.get("upstream"))).toEqual(["12"]);
    // An empty or out-of-range count stays as typed (marked invalid) and asks for nothing.
    await upstream.fill("");
    await page.waitForTimeout(1000);
    expect(await upstream.inputValue()).toBe("");
    expect(await upstream.getAttribute("aria-invalid")).toBe("true");
    await upstream.fill("99");
    await page.waitForTimeout(1000);
    expect(await upstream.inputValue()).toBe("99");
    expect(requests.length).toBe(before + 1);
    await upstream.fill("1");
    await upstream.press("Enter");
    await expect.poll(() => page.url()).toMatch(/upstream=1(&|$)/);
    await page.close();
  });
});

describe("web: action history", () => {
  it("pages with '26–30 of 30', filters on Enter, takes a source ref, links rows to the lineage", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/registries/nets/collections/net`);
    const rows = page.getByTestId("history-row");
    await expect.poll(() => page.getByTestId("history-range").textContent()).toBe("1–25 of 30");
    await page.getByTestId("history-older").click();
    await expect.poll(() => page.getByTestId("history-range").textContent()).toBe("26–30 of 30");
    expect(await rows.count()).toBe(5);

    await page.getByTestId("filter-actor").fill("nobody");
    await page.getByTestId("filter-actor").press("Enter");
    await expect.poll(() => page.url()).toContain("actor=nobody");
    await page.getByTestId("empty").waitFor();
    await page.getByTestId("filter-actor").fill("");
    await page.getByTestId("filter-actor").press("Enter");
    await expect.poll(() => rows.count()).toBe(25);

    await page.getByTestId("filter-version").fill("net:v0");
    await page.getByTestId("filter-version").press("Enter");
    await expect.poll(() => page.url()).toContain("version=v0");
    await page.getByTestId("filter-version").fill("net:v7");
    await page.getByTestId("filter-version").press("Enter");
    await expect.poll(() => page.getByTestId("filter-version-error").textContent()).toContain("not linked");

    await page.getByTestId("history-source").first().click();
    await page.waitForURL(new RegExp(`/projects/states/versions/${model}\\?tab=lineage`));
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toContain(model);
    await page.close();
  });
});

describe("web: versions and artifacts lists", () => {
  it("pages an artifact's 60 versions and finds one by alias", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/states/artifacts/corpus`);
    await expect.poll(() => page.getByTestId("versions-list-range").textContent()).toBe("1–50 of 60");
    expect(await page.title()).toBe("corpus · states · Pedigree");
    await page.getByTestId("versions-list-next").click();
    await expect.poll(() => page.getByTestId("versions-list-range").textContent()).toBe("51–60 of 60");
    expect(await page.getByTestId("version-row").last().textContent()).toContain("v0");
    await page.getByTestId("versions-search").fill("best");
    await page.getByTestId("versions-search").press("Enter");
    await expect.poll(() => page.getByTestId("versions-list-range").textContent()).toBe("1–1 of 1");
    expect(await page.getByTestId("version-row").textContent()).toContain("v42");
    await page.close();
  });

  it("hides generated artifacts until asked, and searches artifacts by name", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/states`);
    await expect.poll(() => page.getByTestId("artifacts-list-range").textContent()).toBe("1–2 of 2");
    expect(await page.getByTestId("artifacts").textContent()).not.toContain("code-snapshot");
    await page.getByTestId("artifacts-generated").check();
    await expect.poll(() => page.getByTestId("artifacts-list-range").textContent()).toBe("1–3 of 3");
    expect(await page.getByTestId("artifacts").textContent()).toContain("code-snapshot");
    await page.getByTestId("artifacts-search").fill("cor");
    await page.getByTestId("artifacts-search").press("Enter");
    await expect.poll(() => page.getByTestId("artifacts-list-range").textContent()).toBe("1–1 of 1");
    await page.close();
  });
});
