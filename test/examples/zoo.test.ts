import { Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runZooScenario } from "../../examples/zoo/scenario";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("examples/zoo", () => {
  it("records the lineage of the W&B docs scenario", async () => {
    const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
    const lineage = await runZooScenario(pd, "zoo");

    const dataset = await pd.artifact("split_zoo_dataset");
    expect(dataset.version).toBe("v0");
    expect((await dataset.loggedBy()).map((run) => run.id)).toEqual(lineage.splitRuns);
    expect((await dataset.usedBy()).map((run) => run.id)).toEqual([lineage.trainingRun, lineage.evaluationRun]);

    const model = await pd.artifact(`zoo-${lineage.trainingRun}:v0`);
    expect(model.aliases).toEqual(["latest", "best"]);
    expect((await model.loggedBy()).map((run) => run.id)).toEqual([lineage.trainingRun]);
    const consumers = await model.usedBy();
    expect(consumers).toEqual([
      expect.objectContaining({ id: lineage.evaluationRun, requestedRef: "model/zoo-classifier:staging" }),
    ]);
    expect(lineage.accuracy).toBeGreaterThan(0.5);
  });

  it("promotes the model from staging to production with an audited, verifiable history", async () => {
    const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
    const production = await pd.artifact("model/zoo-classifier:production");
    expect(production.name).toMatch(/^zoo-/);
    await expect(pd.artifact("model/zoo-classifier:staging")).rejects.toMatchObject({ status: 404 });
    const classifier = pd.registry("model").collection("zoo-classifier");
    const actions: string[] = [];
    for await (const event of classifier.actionHistory()) actions.push(`${event.action} ${event.alias ?? ""}`.trim());
    expect(actions.reverse()).toEqual([
      "collection_created",
      "version_linked",
      "alias_added staging",
      "alias_added production",
      "alias_removed staging",
    ]);
    expect(await classifier.verifyHistory()).toMatchObject({ ok: true });
  });
});
