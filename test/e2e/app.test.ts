import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawnNodeIds, launchChromium, signedInPage } from "../fixtures/browser";
import { lineageBuilder } from "../fixtures/lineage-graphs";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Runs `count` tasks, `width` at a time. */
async function inBatches(count: number, width: number, task: (index: number) => Promise<unknown>) {
  for (let start = 0; start < count; start += width)
    await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, offset) => task(start + offset)));
}

describe("web: sign-in and page states", () => {
  it("asks for an API key, refuses a wrong one and signs in with the right one", async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByTestId("api-key").fill("pdg_not_a_key");
    await page.getByTestId("sign-in").click();
    await page.getByTestId("sign-in-error").waitFor();
    await page.getByTestId("api-key").fill(server.apiKey);
    await page.getByTestId("sign-in").click();
    await expect.poll(() => page.getByTestId("user").textContent()).toBe("admin");
    await page.getByTestId("empty").first().waitFor();
    await page.reload();
    await expect.poll(() => page.getByTestId("user").textContent()).toBe("admin");
    await page.close();
  });

  it("serves the app for any non-API path and leaves API paths to the API", async () => {
    const app = await fetch(`${server.url}/projects/none/versions/av_0000000000000000?tab=lineage`);
    expect(app.status).toBe(200);
    expect(await app.text()).toContain('<div id="root">');
    const api = await fetch(`${server.url}/api/v1/nothing-here`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  it("shows the API's error when a version does not exist", async () => {
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/ghost/versions/av_0000000000000000?tab=lineage`);
    await expect.poll(() => page.getByTestId("error").first().textContent()).toContain("404");
    await page.close();
  });
});

describe("web: a large graph", () => {
  it("lays out 500 nodes in under a second", async () => {
    const graph = lineageBuilder(server, "wide");
    const producer = await graph.run("prepare");
    const dataset = await graph.log(producer, "corpus", "dataset");
    await inBatches(498, 16, async () => {
      const run = await graph.run("train");
      await graph.use(run, dataset);
    });
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/projects/wide/versions/${dataset}?tab=lineage&expandClusters=true`);
    await expect.poll(async () => (await drawnNodeIds(page)).length, { timeout: 30_000 }).toBe(500);
    const layoutMs = Number(await page.getByTestId("graph").getAttribute("data-layout-ms"));
    console.log(`[web] 500-node layout took ${layoutMs} ms`);
    expect(layoutMs).toBeLessThan(1000);
    await page.close();
  });
});

describe("web: action history paging", () => {
  it("pages through a long history with the API's cursor", async () => {
    const graph = lineageBuilder(server, "paged");
    const run = await graph.run("training");
    const model = await graph.log(run, "net", "model");
    const link = await server.api("POST", "/registries", { name: "nets" });
    expect(link.status).toBe(201);
    const linked = await server.api("POST", "/registries/nets/collections/net/versions", {
      project: "paged",
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
    const page = await signedInPage(browser, server.apiKey);
    await page.goto(`${server.url}/registries/nets/collections/net`);
    const rows = page.getByTestId("history-row");
    await expect.poll(() => rows.count()).toBe(25);
    const firstPage = await rows.first().textContent();
    await page.getByTestId("history-older").click();
    await expect.poll(() => rows.first().textContent()).not.toBe(firstPage);
    expect(await rows.count()).toBe(30 - 25);
    await page.getByTestId("history-newer").click();
    await expect.poll(() => rows.first().textContent()).toBe(firstPage);
    await page.close();
  });
});
