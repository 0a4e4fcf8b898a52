import { NotFoundError, Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelledGraph, runEvent } from "../fixtures/openlineage";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let pd: Pedigree;

/** gs://bucket:raw/a:b.csv (a name holding the delimiter) → job etl:clean → bigquery:proj.ds.clean. */
const raw = { namespace: "gs://bucket", name: "raw/a:b.csv" };
const clean = { namespace: "bigquery", name: "proj.ds.clean" };
const runId = "f0000000-0000-4000-8000-000000000001";

beforeAll(async () => {
  server = await startTestServer();
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "sdk-ol", pedigreeDir: server.dir });
  const posted = await server.api(
    "POST",
    "/lineage?project=sdk-ol",
    runEvent({
      eventTime: "2026-01-01T00:00:00Z",
      runId,
      job: { namespace: "etl", name: "clean" },
      inputs: [raw],
      outputs: [clean],
    }),
  );
  expect(posted.status).toBe(201);
});
afterAll(() => server.close());

const expected = {
  nodes: ["bigquery|proj.ds.clean", "gs://bucket|raw/a:b.csv", "run clean"],
  edges: ["gs://bucket|raw/a:b.csv -> run clean (input)", "run clean -> bigquery|proj.ds.clean (output)"],
};

describe("sdk: lineage of OpenLineage nodes", () => {
  it("takes dataset:, job: and run: ids and { kind, namespace, name }", async () => {
    expect(labelledGraph(await pd.lineage("dataset:bigquery:proj.ds.clean"))).toEqual(expected);
    expect(labelledGraph(await pd.lineage({ kind: "dataset", ...raw }))).toEqual(expected);
    expect(labelledGraph(await pd.lineage("job:etl:clean"))).toEqual(expected);
    expect(labelledGraph(await pd.lineage({ kind: "job", namespace: "etl", name: "clean" }))).toEqual(expected);
    expect(labelledGraph(await pd.lineage(`run:${runId}`))).toEqual(expected);
  });

  it("answers impact and path for them", async () => {
    const impact = await pd.impact({ kind: "dataset", ...raw });
    expect(impact).toMatchObject({ runCount: 1, versionCount: 1 });
    const path = await pd.lineagePath({ kind: "dataset", ...raw }, "dataset:bigquery:proj.ds.clean");
    expect(path.nodes?.map((node) => node.kind)).toEqual(["version", "run", "version"]);
  });

  it("throws NotFoundError for a node the project does not have", async () => {
    await expect(pd.lineage({ kind: "dataset", namespace: "gs://bucket", name: "missing" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
