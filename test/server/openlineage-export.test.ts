import { createHash } from "node:crypto";
import { type LineageGraph, RunEvent } from "@pedigree/protocol";
import { Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runZooScenario } from "../../examples/zoo/scenario";
import { labelledGraph, runEvent, scenarioEvents } from "../fixtures/openlineage";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const exported = async (target: TestServer, project: string, runId: string) => {
  const response = await target.api("GET", `/projects/${project}/runs/${runId}/openlineage`);
  expect(response.status).toBe(200);
  // Every exported event is valid against the same schemas ingest uses.
  return (response.body.events as unknown[]).map((event) => RunEvent.parse(event));
};

async function sdkRun(project: string, state: "finished" | "failed" | "running") {
  const run = (await server.api("POST", `/projects/${project}/runs`, { jobType: "training", config: { lr: 0.1 } }))
    .body;
  const raw = await server.api("POST", `/projects/${project}/versions`, {
    name: "raw-data",
    type: "dataset",
    manifest: [{ path: "rows.csv", uri: "s3://bucket/rows.csv" }],
  });
  await server.api("POST", `/projects/${project}/runs/${run.id}/inputs`, { ref: "raw-data:v0" });
  const content = "model bytes";
  await fetch(`${server.url}/api/v1/blobs/${sha256(content)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${server.apiKey}` },
    body: content,
  });
  const model = await server.api("POST", `/projects/${project}/versions`, {
    name: "model",
    type: "model",
    runId: run.id,
    manifest: [{ path: "model.bin", sha256: sha256(content), size: content.length }],
  });
  if (state !== "running") await server.api("PATCH", `/projects/${project}/runs/${run.id}`, { state });
  return { run, raw: raw.body.version, model: model.body.version };
}

describe("openlineage export", () => {
  it("answers a finished run as START and COMPLETE with its datasets, their digests, config and job type", async () => {
    const { run, raw, model } = await sdkRun("export", "finished");
    const events = await exported(server, "export", run.id);
    expect(events.map((event) => event.eventType)).toEqual(["START", "COMPLETE"]);
    const [start, complete] = events as [RunEvent, RunEvent];
    expect(start.run.runId).toBe(complete.run.runId);
    expect(start.job).toMatchObject({ namespace: "pedigree://export", name: run.name });
    expect(start.job.facets?.jobType).toMatchObject({ jobType: "training", integration: "PEDIGREE" });
    expect(start.run.facets?.pedigree).toMatchObject({ config: { lr: 0.1 }, runId: run.id, jobType: "training" });
    const dataset = (item: { namespace: string; name: string; facets?: Record<string, unknown> | undefined }) => ({
      namespace: item.namespace,
      name: item.name,
      datasetVersion: (item.facets?.version as { datasetVersion?: string } | undefined)?.datasetVersion,
    });
    expect(start.inputs?.map(dataset)).toEqual([
      { namespace: "pedigree://export", name: "raw-data", datasetVersion: raw.digest },
    ]);
    expect(start.outputs).toEqual([]);
    expect(complete.outputs?.map(dataset)).toEqual([
      { namespace: "pedigree://export", name: "model", datasetVersion: model.digest },
    ]);
    expect(complete.eventTime).toBe((await server.api("GET", `/projects/export/runs/${run.id}`)).body.finishedAt);
  });

  it("answers FAIL for a failed run, and only START for a run still going", async () => {
    const failed = await sdkRun("export-states", "failed");
    expect((await exported(server, "export-states", failed.run.id)).map((event) => event.eventType)).toEqual([
      "START",
      "FAIL",
    ]);
    const running = (await server.api("POST", "/projects/export-states/runs", { jobType: "eval" })).body;
    expect((await exported(server, "export-states", running.id)).map((event) => event.eventType)).toEqual(["START"]);
    expect((await server.api("GET", "/projects/export-states/runs/zzzzzzzz/openlineage")).status).toBe(404);
  });

  it("gives an OpenLineage run back with its own runId, job and facets", async () => {
    await server.api("POST", "/lineage/batch?project=export-ol", scenarioEvents("dbt-csv-to-postgres"));
    const runId = (await server.api("GET", "/projects/export-ol/lineage?node=run:019a977e-cd22-77d8-9146-6bbbbce77b6e"))
      .body.base;
    const events = await exported(server, "export-ol", runId);
    expect(events.map((event) => event.eventType)).toEqual(["START", "COMPLETE"]);
    const complete = events[1] as RunEvent;
    expect(complete.run.runId).toBe("019a977e-cd22-77d8-9146-6bbbbce77b6e");
    expect(complete.run.facets?.parent?.run.runId).toBe("019a977e-6c3f-7b18-a638-05655c338077");
    expect(complete.job).toMatchObject({
      namespace: "dbt",
      name: "dbt_test.main.openlineage_compatibility_test.stg_orders",
    });
    expect(complete.outputs?.map((output) => [output.namespace, output.name])).toEqual([
      ["postgres://localhost:5432", "dbt_test.main.stg_orders"],
    ]);
    expect(complete.outputs?.[0]?.facets?.schema).toBeDefined();
  });

  it("reports an aborted OpenLineage run as ABORT", async () => {
    const job = { namespace: "sched", name: "stopped" };
    const id = "e0000000-0000-4000-8000-000000000001";
    await server.api("POST", "/lineage/batch?project=export-abort", [
      runEvent({ eventType: "START", eventTime: "2026-01-01T00:00:00Z", runId: id, job }),
      runEvent({ eventType: "ABORT", eventTime: "2026-01-01T00:01:00Z", runId: id, job }),
    ]);
    const runId = (await server.api("GET", "/projects/export-abort/lineage?node=job:sched:stopped")).body.base;
    const events = await exported(server, "export-abort", runId);
    expect(events.map((event) => [event.eventType, event.eventTime])).toEqual([
      ["START", "2026-01-01T00:00:00.000Z"],
      ["ABORT", "2026-01-01T00:01:00.000Z"],
    ]);
  });
});

describe("openlineage round trip", () => {
  it("gives the same lineage when a zoo run's events are posted to a second server", async () => {
    const second = await startTestServer();
    try {
      const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
      const zoo = await runZooScenario(pd, "zoo");
      const runs = (await server.api("GET", "/projects/zoo/runs?limit=1000")).body.runs as { id: string }[];
      const events = [];
      for (const run of [...runs].reverse()) events.push(...(await exported(server, "zoo", run.id)));
      const posted = await second.api("POST", "/lineage/batch?project=zoo", events);
      expect(posted.status).toBe(201);

      const query = "upstream=3&downstream=2";
      const first = (await server.api("GET", `/projects/zoo/lineage?node=${zoo.model.id}&${query}`))
        .body as LineageGraph;
      const model = first.nodes.find((node) => node.id === first.base);
      if (model?.kind !== "version") throw new Error("the base is the model version");
      const node = encodeURIComponent(`dataset:pedigree://zoo:${model.artifact}`);
      const again = (await second.api("GET", `/projects/zoo/lineage?node=${node}&${query}`)).body as LineageGraph;
      // The first server's own versions are the second's `pedigree://zoo` datasets.
      const asExported: LineageGraph = {
        ...first,
        nodes: first.nodes.map((item) =>
          item.kind === "version"
            ? { ...item, openlineage: { namespace: "pedigree://zoo", name: item.artifact } }
            : item,
        ),
      };
      expect(labelledGraph(again)).toEqual(labelledGraph(asExported));
      expect(labelledGraph(again).edges.length).toBeGreaterThan(4);
    } finally {
      await second.close();
    }
  });
});
