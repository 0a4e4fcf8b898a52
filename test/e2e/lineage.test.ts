import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pedigree } from "@pedigree/sdk";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runZooScenario, type ZooLineage } from "../../examples/zoo/scenario";
import { drawnEdges, drawnNodeIds, launchChromium, signedInPage } from "../fixtures/browser";
import { type GraphAnswer, lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * The zoo scenario with six split runs (one cluster of runs at clusterMin 5) and a report run that uses
 * the model and logs a generated table, seen through the web app in headless Chromium.
 */
let server: TestServer;
let browser: Browser;
let zoo: ZooLineage;
let reportRun: string;
let table: string;

beforeAll(async () => {
  server = await startTestServer();
  const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
  zoo = await runZooScenario(pd, "zoo", 6);
  const graph = lineageBuilder(server, "zoo");
  reportRun = await graph.run("report", "weekly-report");
  await graph.use(reportRun, zoo.model.id);
  table = await graph.log(reportRun, "run-table", "run_table", { generated: true });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Screenshots land in docs/ (shown in the README) when PEDIGREE_UPDATE_DOCS=1, in the temp dir otherwise. */
const screenshotDir = process.env.PEDIGREE_UPDATE_DOCS === "1" ? "docs" : join(tmpdir(), "pedigree-screenshots");
const modelPage = (query = "") => `${server.url}/projects/zoo/versions/${zoo.model.id}?tab=lineage${query}`;

async function apiGraph(node: string, options: Record<string, string | number | boolean> = {}): Promise<GraphAnswer> {
  const response = await lineageBuilder(server, "zoo").lineage(node, options);
  expect(response.status).toBe(200);
  return response.body;
}
const idsOf = (graph: GraphAnswer) => graph.nodes.map((node) => node.id).sort();
const edgesOf = (graph: GraphAnswer) => graph.edges.map((edge) => `${edge.source}>${edge.target}:${edge.kind}`).sort();

/** Waits until the graph drawn for the current URL is the one the API answers for `options`. */
async function expectGraphLike(page: Page, options: Record<string, string | number | boolean>) {
  const expected = await apiGraph(zoo.model.id, options);
  await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toEqual(idsOf(expected));
  expect(await drawnEdges(page)).toEqual(edgesOf(expected));
  return expected;
}

describe("web: lineage of the zoo model", () => {
  it("draws the nodes and edges the API answers, the base highlighted", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(modelPage("&upstream=3"));
    const graph = await expectGraphLike(page, { upstream: 3 });
    expect(graph.nodes.map((node) => node.kind).sort()).toEqual(["cluster", "run", "run", "run", "version", "version"]);
    await expect.poll(() => page.getByTestId(`node-${zoo.model.id}`).getAttribute("class")).toContain("base");
    expect(await page.getByTestId(`node-${zoo.trainingRun}`).getAttribute("data-kind")).toBe("run");
    expect(await page.getByTestId(`node-${zoo.trainingRun}`).textContent()).toContain("training");
    await mkdir(screenshotDir, { recursive: true });
    await page.getByTestId(`node-${zoo.trainingRun}`).click();
    await page.getByTestId("details-title").waitFor();
    await page.screenshot({ path: join(screenshotDir, "web-lineage.png") });
    await page.close();
  });

  it("shows a run's details in the side panel on click", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(modelPage());
    await page.getByTestId(`node-${zoo.trainingRun}`).click();
    await expect.poll(() => page.getByTestId("details-type").textContent()).toBe("training");
    expect(await page.getByTestId("details-config").textContent()).toContain("nearest-centroid");
    expect(await page.getByTestId("details-inputs").textContent()).toContain("split_zoo_dataset:v0");
    expect(await page.getByTestId("details-outputs").textContent()).toContain(`zoo-${zoo.trainingRun}:v0`);
    expect(page.url()).toContain(`selected=${zoo.trainingRun}`);
    await page.close();
  });

  it("shows a version's details, memberships included, and makes it the base", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(modelPage());
    await page.getByTestId(`node-${zoo.model.id}`).click();
    await expect.poll(() => page.getByTestId("details-type").textContent()).toBe("model");
    expect(await page.getByTestId("details-memberships").textContent()).toContain("model/zoo-classifier:v0");
    expect(await page.getByTestId("details-aliases").textContent()).toContain("best");
    expect(await page.getByTestId("details-files").textContent()).toContain("model.json");

    await page.getByTestId(`node-${zoo.dataset.id}`).click();
    await expect.poll(() => page.getByTestId("details-producers").textContent()).toContain("split_zoo_data");
    await page.getByTestId("make-base").click();
    await page.waitForURL(new RegExp(`/versions/${zoo.dataset.id}\\?`));
    const expected = await apiGraph(zoo.dataset.id);
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toEqual(idsOf(expected));
    await expect.poll(() => page.getByTestId(`node-${zoo.dataset.id}`).getAttribute("class")).toContain("base");
    await page.close();
  });
});

describe("web: a run's page", () => {
  it("shows the run's overview and its lineage with the run as the base", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/zoo/runs/${zoo.evaluationRun}`);
    await expect.poll(() => page.getByTestId("details-type").textContent()).toBe("evaluation");
    expect(await page.getByTestId("details-inputs").textContent()).toContain("model/zoo-classifier:staging");
    await page.getByTestId("tab-lineage").click();
    const expected = await apiGraph(zoo.evaluationRun);
    await expect.poll(() => drawnNodeIds(page), { timeout: 15_000 }).toEqual(idsOf(expected));
    expect(await drawnEdges(page)).toEqual(edgesOf(expected));
    await expect.poll(() => page.getByTestId(`node-${zoo.evaluationRun}`).getAttribute("class")).toContain("base");
    await page.close();
  });
});

describe("web: custom view", () => {
  it("changes the graph as the API says for each option", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(modelPage("&upstream=3"));
    await expectGraphLike(page, { upstream: 3 });

    await page.getByTestId("option-includeGenerated").check();
    const withGenerated = await expectGraphLike(page, { upstream: 3, includeGenerated: true });
    expect(idsOf(withGenerated)).toContain(table);

    await page.getByTestId("option-expandClusters").check();
    const expanded = await expectGraphLike(page, { upstream: 3, includeGenerated: true, expandClusters: true });
    for (const run of zoo.splitRuns) expect(idsOf(expanded)).toContain(run);

    await page.getByTestId("option-extended").check();
    await expectGraphLike(page, { upstream: 3, includeGenerated: true, expandClusters: true, extended: true });

    await page.getByTestId("option-downstream").fill("1");
    await expectGraphLike(page, {
      upstream: 3,
      downstream: 1,
      includeGenerated: true,
      expandClusters: true,
      extended: true,
    });

    await page.getByTestId("option-upstream").fill("1");
    await expectGraphLike(page, {
      upstream: 1,
      downstream: 1,
      includeGenerated: true,
      expandClusters: true,
      extended: true,
    });
    await page.close();
  });

  it("filters by artifact type and job type from the project's own values, hidden edges dashed", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(modelPage("&upstream=3&expandClusters=true"));
    await expectGraphLike(page, { upstream: 3, expandClusters: true });
    const offered = await page
      .getByTestId("artifact-types")
      .locator("input")
      .evaluateAll((inputs) => inputs.map((input) => input.getAttribute("data-testid")));
    expect(offered).toEqual(["artifact-type-dataset", "artifact-type-model", "artifact-type-run_table"]);

    await page.getByTestId("artifact-type-model").check();
    const models = await expectGraphLike(page, { upstream: 3, expandClusters: true, artifactTypes: "model" });
    expect(models.edges.some((edge) => edge.kind === "hidden")).toBe(true);
    const dash = await page
      .locator(".react-flow__edge.edge-hidden path.react-flow__edge-path")
      .first()
      .evaluate((path) => path.ownerDocument.defaultView!.getComputedStyle(path).strokeDasharray);
    expect(dash).not.toBe("none");

    await page.getByTestId("artifact-type-model").uncheck();
    await page.getByTestId("job-type-training").check();
    await expectGraphLike(page, { upstream: 3, expandClusters: true, jobTypes: "training" });
    await page.close();
  });

  it("searches a cluster's members and pulls one out", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(modelPage("&upstream=3"));
    const graph = await expectGraphLike(page, { upstream: 3 });
    const cluster = graph.nodes.find((node) => node.kind === "cluster")!;
    expect(await page.getByTestId(`node-${cluster.id}`).textContent()).toContain("6");
    await page.getByTestId(`node-${cluster.id}`).click();
    await expect.poll(() => page.getByTestId("cluster-members").locator("li").count()).toBe(6);

    const pulled = zoo.splitRuns[2]!;
    const { body: run } = await server.api("GET", `/projects/zoo/runs/${pulled}`);
    await page.getByTestId("member-search").fill(run.name);
    await expect.poll(() => page.getByTestId("cluster-members").locator("li").count()).toBe(1);
    await page.getByTestId(`pull-${pulled}`).click();
    const after = await expectGraphLike(page, { upstream: 3, pull: pulled });
    expect(idsOf(after)).toContain(pulled);
    expect(page.url()).toContain(`pull=${pulled}`);
    await page.close();
  });

  it("reloads a shared URL as the same view", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(modelPage("&upstream=3"));
    await drawnNodeIds(page);
    await page.getByTestId("option-expandClusters").check();
    await page.getByTestId("job-type-training").check();
    await page.getByTestId(`node-${zoo.trainingRun}`).click();
    const options = { upstream: 3, expandClusters: true, jobTypes: "training" };
    const drawn = (await expectGraphLike(page, options)).nodes.length;
    const shared = page.url();
    await page.close();

    const other = await signedInPage(browser, server.apiKey);
    await other.goto(shared);
    const expected = await expectGraphLike(other, options);
    expect(expected.nodes.length).toBe(drawn);
    expect(await other.getByTestId("option-expandClusters").isChecked()).toBe(true);
    expect(await other.getByTestId("job-type-training").isChecked()).toBe(true);
    expect(await other.getByTestId("option-upstream").inputValue()).toBe("3");
    await expect.poll(() => other.getByTestId("details-type").textContent()).toBe("training");
    await other.close();
  });
});

describe("web: registry and action history", () => {
  it("lists the collection's versions and shows the alias promotion in a verified history", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/registries/model`);
    await page.getByTestId("collections").getByText("zoo-classifier").click();
    await page.getByTestId("collection-versions").waitFor();
    expect(await page.getByTestId("collection-versions").textContent()).toContain("production");
    await expect.poll(() => page.getByTestId("chain-status").textContent()).toContain("verified");
    const rows = page.getByTestId("history-row");
    await expect.poll(() => rows.count()).toBeGreaterThan(3);
    const table = await page.getByTestId("history-table").textContent();
    expect(table).toContain("alias_added");
    expect(table).toContain("production");
    expect(table).toContain("alias_removed");
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, "web-history.png"), fullPage: true });

    await page.getByTestId("filter-action").selectOption("alias_added");
    const actionsShown = () =>
      rows.evaluateAll((elements) => elements.map((element) => element.getAttribute("data-action")));
    await expect.poll(async () => [...new Set(await actionsShown())]).toEqual(["alias_added"]);
    expect(page.url()).toContain("action=alias_added");
    await page.close();
  });
});
