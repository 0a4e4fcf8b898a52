import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, signedInPage } from "../fixtures/browser";
import { scenarioEvents } from "../fixtures/openlineage";
import { startTestServer, type TestServer } from "../fixtures/server";

/** The dbt compatibility scenario ingested as OpenLineage, seen through the web app in headless Chromium. */
let server: TestServer;
let browser: Browser;
let analytics: string;
let analyticsRun: string;

beforeAll(async () => {
  server = await startTestServer();
  expect((await server.api("POST", "/lineage/batch?project=dbt", scenarioEvents("dbt-csv-to-postgres"))).status).toBe(
    201,
  );
  const graph = await server.api(
    "GET",
    `/projects/dbt/lineage?node=${encodeURIComponent("dataset:postgres://localhost:5432:dbt_test.main.customer_analytics")}`,
  );
  analytics = graph.body.base;
  analyticsRun = graph.body.nodes.find((node: { kind: string }) => node.kind === "run").id;
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("web: OpenLineage nodes", () => {
  it("shows datasets by their OpenLineage name and namespace, and their schema as a table", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/dbt/versions/${analytics}?tab=lineage`);
    const node = page.getByTestId(`node-${analytics}`);
    await expect.poll(() => node.textContent(), { timeout: 15_000 }).toContain("dbt_test.main.customer_analytics:v0");
    expect(await node.getByTestId("node-namespace").textContent()).toBe("postgres://localhost:5432");
    await node.click();
    await expect.poll(() => page.getByTestId("details-namespace").textContent()).toBe("postgres://localhost:5432");
    const rows = await page.getByTestId("details-schema").locator("tbody tr").allTextContents();
    // Field, type (none given: —), description.
    expect(rows).toEqual([
      "customer_id—Unique customer identifier",
      "total_revenue—Total completed revenue per customer",
    ]);
    expect(await page.getByTestId("facet-documentation").textContent()).toContain(
      "Customer analytics with aggregated metrics",
    );
    expect(await page.getByTestId("facet-columnLineage").count()).toBe(1);
    await page.close();
  });

  it("shows a run's job namespace, parent and job facets", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/dbt/versions/${analytics}?tab=lineage`);
    await page.getByTestId(`node-${analyticsRun}`).click();
    await expect.poll(() => page.getByTestId("details-namespace").textContent()).toBe("dbt");
    expect(await page.getByTestId("details-parent").textContent()).toContain("dbt-run-openlineage_compatibility_test");
    expect(await page.getByTestId("facet-sql").textContent()).toContain("stg_customers");
    expect(await page.getByTestId("details-type").textContent()).toBe("model");
    await page.close();
  });
});
