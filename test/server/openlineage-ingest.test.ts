import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelledGraph, runEvent, scenarioEvents, scenarioFiles, testFacet } from "../fixtures/openlineage";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const post = (path: string, body: unknown, key?: string) => server.api("POST", path, body, key);
const ingest = (project: string, events: unknown[]) => post(`/lineage/batch?project=${project}`, events);
const lineage = (project: string, query: Record<string, string>) =>
  server.api("GET", `/projects/${project}/lineage?${new URLSearchParams(query)}`);

const pg = "postgres://localhost:5432";
const dbtJob = (model: string) => `run dbt_test.main.openlineage_compatibility_test.${model}`;
const dbtTable = (table: string) => `${pg}|dbt_test.main.${table}`;

/** The lineage of the dbt compatibility scenario (dbt csv_to_postgres): two staging models feed customer_analytics. */
const dbtLineage = {
  nodes: [
    dbtJob("customer_analytics"),
    dbtJob("stg_customers"),
    dbtJob("stg_orders"),
    dbtTable("customer_analytics"),
    dbtTable("stg_customers"),
    dbtTable("stg_orders"),
  ].sort(),
  edges: [
    `${dbtJob("customer_analytics")} -> ${dbtTable("customer_analytics")} (output)`,
    `${dbtJob("stg_customers")} -> ${dbtTable("stg_customers")} (output)`,
    `${dbtJob("stg_orders")} -> ${dbtTable("stg_orders")} (output)`,
    `${dbtTable("stg_customers")} -> ${dbtJob("customer_analytics")} (input)`,
    `${dbtTable("stg_orders")} -> ${dbtJob("customer_analytics")} (input)`,
  ].sort(),
};
const dbtBase = { node: `dataset:${pg}:dbt_test.main.customer_analytics`, upstream: "3", downstream: "0" };

describe("openlineage ingest: vendored events", () => {
  it("accepts every vendored event with a 201", async () => {
    for (const folder of ["dbt-csv-to-postgres", "marquez"]) {
      for (const { file, event } of scenarioFiles(folder)) {
        const response = await post("/lineage?project=fixtures", event);
        expect({ file, status: response.status, body: response.body }).toMatchObject({ file, status: 201 });
      }
    }
  });

  it("draws the dbt scenario: exactly its datasets, runs and edges", async () => {
    const response = await ingest("dbt", scenarioEvents("dbt-csv-to-postgres"));
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ project: "dbt", accepted: 7 });
    const graph = await lineage("dbt", dbtBase);
    expect(graph.status).toBe(200);
    expect(labelledGraph(graph.body)).toEqual(dbtLineage);
  });

  it("draws Marquez's simple event: two inputs, one job run, one output", async () => {
    const [event] = scenarioFiles("marquez").filter(({ file }) => file === "event_simple.json");
    expect((await post("/lineage?project=marquez-simple", event?.event)).status).toBe(201);
    const graph = await lineage("marquez-simple", {
      node: "dataset:my-datasource-namespace:instance.schema.output-1",
    });
    const table = (name: string) => `my-datasource-namespace|instance.schema.${name}`;
    expect(labelledGraph(graph.body)).toEqual({
      nodes: [table("input-1"), table("input-2"), table("output-1"), "run myjob.mytask"].sort(),
      edges: [
        `${table("input-1")} -> run myjob.mytask (input)`,
        `${table("input-2")} -> run myjob.mytask (input)`,
        `run myjob.mytask -> ${table("output-1")} (output)`,
      ].sort(),
    });
  });

  it("keeps the runs' states, OpenLineage runIds, job identities and parents", async () => {
    await ingest("dbt-runs", scenarioEvents("dbt-csv-to-postgres"));
    const { body } = await server.api("GET", "/projects/dbt-runs/runs");
    const states = Object.fromEntries(body.runs.map((run: { name: string; state: string }) => [run.name, run.state]));
    expect(body.runs).toHaveLength(5);
    expect(states).toMatchObject({
      "dbt_test.main.openlineage_compatibility_test.stg_orders": "finished",
      "dbt_test.main.openlineage_compatibility_test.stg_customers": "running",
    });
    const job = await lineage("dbt-runs", { node: "run:019a977e-cd22-77d8-9146-6bbbbce77b6e", upstream: "0" });
    const runId = job.body.base;
    const details = await server.api("GET", `/projects/dbt-runs/runs/${runId}`);
    expect(details.body.jobType).toBe("model");
    expect(details.body.openlineage).toMatchObject({
      runId: "019a977e-cd22-77d8-9146-6bbbbce77b6e",
      namespace: "dbt",
      name: "dbt_test.main.openlineage_compatibility_test.stg_orders",
      parent: {
        runId: "019a977e-6c3f-7b18-a638-05655c338077",
        namespace: "dbt",
        name: "dbt-run-openlineage_compatibility_test",
      },
    });
    expect(details.body.openlineage.jobFacets.sql.query).toContain('"raw_orders"');
  });
});

describe("openlineage ingest: idempotence and order", () => {
  it("changes nothing when the same events are posted again", async () => {
    const events = scenarioEvents("dbt-csv-to-postgres");
    await ingest("again", events);
    // The graph's nodes and edges, in an order of their own (the answer's order among equal times is the database's).
    const graph = async () => {
      const { body } = await lineage("again", dbtBase);
      const key = (item: object) => JSON.stringify(item);
      return { ...body, nodes: body.nodes.map(key).sort(), edges: body.edges.map(key).sort() };
    };
    const before = {
      runs: (await server.api("GET", "/projects/again/runs")).body,
      artifacts: (await server.api("GET", "/projects/again/artifacts")).body,
      graph: await graph(),
    };
    expect((await ingest("again", events)).status).toBe(201);
    for (const event of events) await post("/lineage?project=again", event);
    expect({
      runs: (await server.api("GET", "/projects/again/runs")).body,
      artifacts: (await server.api("GET", "/projects/again/artifacts")).body,
      graph: await graph(),
    }).toEqual(before);
  });

  it("ends in the same states and lineage whatever order one run's events arrive in", async () => {
    const events = scenarioEvents("dbt-csv-to-postgres");
    // Each run's events last first (the runs themselves in their order: a reader needs its writer's version).
    const byRun = new Map<string, Record<string, unknown>[]>();
    for (const event of events) {
      const runId = (event.run as { runId: string }).runId;
      byRun.set(runId, [...(byRun.get(runId) ?? []), event]);
    }
    await ingest(
      "reversed",
      [...byRun.values()].flatMap((run) => [...run].reverse()),
    );
    expect(labelledGraph((await lineage("reversed", dbtBase)).body)).toEqual(dbtLineage);
    const states = async (project: string) =>
      (await server.api("GET", `/projects/${project}/runs`)).body.runs
        .map((run: { name: string; state: string; startedAt: string; finishedAt: string | null }) =>
          [run.name, run.state, run.startedAt, run.finishedAt].join(" "),
        )
        .sort();
    await ingest("in-order", events);
    expect(await states("reversed")).toEqual(await states("in-order"));
  });

  it("never takes a finished run back to running; the later terminal event wins; ABORT is its own state", async () => {
    const job = { namespace: "sched", name: "nightly" };
    const id = "6b1f8a5e-0d2c-4c59-9a51-3f5d1c2b7e10";
    await ingest("states", [
      runEvent({ eventType: "COMPLETE", eventTime: "2026-01-01T10:05:00Z", runId: id, job }),
      runEvent({ eventType: "START", eventTime: "2026-01-01T10:00:00Z", runId: id, job }),
      runEvent({ eventType: "RUNNING", eventTime: "2026-01-01T10:10:00Z", runId: id, job }),
      runEvent({ eventType: "OTHER", eventTime: "2026-01-01T10:20:00Z", runId: id, job }),
    ]);
    const [run] = (await server.api("GET", "/projects/states/runs")).body.runs;
    expect(run).toMatchObject({
      name: "nightly",
      state: "finished",
      startedAt: "2026-01-01T10:00:00.000Z",
      finishedAt: "2026-01-01T10:05:00.000Z",
    });
    const aborted = "0a4c2e1d-7b8f-4e3a-9c6d-5f1e2a3b4c5d";
    await ingest("states", [
      runEvent({ eventType: "START", eventTime: "2026-01-02T10:00:00Z", runId: aborted, job }),
      runEvent({ eventType: "ABORT", eventTime: "2026-01-02T10:01:00Z", runId: aborted, job }),
      runEvent({ eventType: "FAIL", eventTime: "2026-01-02T10:00:30Z", runId: aborted, job }),
    ]);
    const latest = await lineage("states", { node: "job:sched:nightly", upstream: "0", downstream: "0" });
    expect(latest.body.nodes[0]).toMatchObject({
      kind: "run",
      state: "aborted",
      finishedAt: "2026-01-02T10:01:00.000Z",
    });
  });

  it("counts inputs and outputs from every event of a run, also after its COMPLETE", async () => {
    const job = { namespace: "spark", name: "join" };
    const id = "5c3d2e1f-8a9b-4c7d-8e6f-1a2b3c4d5e6f";
    await ingest("union", [
      runEvent({
        eventType: "START",
        eventTime: "2026-01-01T00:00:00Z",
        runId: id,
        job,
        inputs: [{ namespace: "gs://raw", name: "a.csv" }],
      }),
      runEvent({
        eventType: "COMPLETE",
        eventTime: "2026-01-01T00:01:00Z",
        runId: id,
        job,
        outputs: [{ namespace: "gs://out", name: "joined" }],
      }),
    ]);
    await post(
      "/lineage?project=union",
      runEvent({
        eventType: "OTHER",
        eventTime: "2026-01-01T00:02:00Z",
        runId: id,
        job,
        inputs: [{ namespace: "gs://raw", name: "b.csv" }],
      }),
    );
    const graph = await lineage("union", { node: "dataset:gs://out:joined" });
    expect(labelledGraph(graph.body)).toEqual({
      nodes: ["gs://out|joined", "gs://raw|a.csv", "gs://raw|b.csv", "run join"],
      edges: [
        "gs://raw|a.csv -> run join (input)",
        "gs://raw|b.csv -> run join (input)",
        "run join -> gs://out|joined (output)",
      ],
    });
  });
});

describe("openlineage ingest: concurrent batches", () => {
  it("takes batches that share runs and datasets at once, in any order, without a conflict", async () => {
    const tables = Array.from({ length: 12 }, (_, index) => ({ namespace: "pg", name: `db.t${index}` }));
    const batches = Array.from({ length: 8 }, (_, batch) =>
      Array.from({ length: 10 }, (_, index) => {
        const run = (batch * 3 + index) % 16;
        const order = batch % 2 === 0 ? tables : [...tables].reverse();
        return runEvent({
          eventType: index % 2 === 0 ? "START" : "COMPLETE",
          eventTime: new Date(Date.UTC(2026, 0, 1, 0, run)).toISOString(),
          runId: `b0000000-0000-4000-8000-${String(run).padStart(12, "0")}`,
          job: { namespace: "conc", name: `job-${run}` },
          inputs: order.slice(index % 5, (index % 5) + 3),
          outputs: [order[(index + 6) % 12] as { namespace: string; name: string }],
        });
      }),
    );
    const answers = await Promise.all(batches.map((events) => ingest("concurrent", events)));
    expect(answers.map((answer) => answer.status)).toEqual(batches.map(() => 201));
    const { body } = await server.api("GET", "/projects/concurrent/runs?limit=100");
    expect(body.runs).toHaveLength(16);
  });
});

describe("openlineage ingest: datasets and versions", () => {
  it("keeps a dataset's identity exactly and makes it one node, whatever job namespace uses it", async () => {
    await ingest("identity", [
      runEvent({
        eventTime: "2026-01-01T00:00:00Z",
        runId: "11111111-1111-4111-8111-111111111111",
        job: { namespace: "airflow", name: "load" },
        outputs: [{ namespace: "gs://bucket", name: "data/x.csv" }],
      }),
      runEvent({
        eventTime: "2026-01-01T01:00:00Z",
        runId: "22222222-2222-4222-8222-222222222222",
        job: { namespace: "spark", name: "train.prep" },
        inputs: [{ namespace: "gs://bucket", name: "data/x.csv" }],
        outputs: [{ namespace: "bigquery", name: "proj.ds.table" }],
      }),
    ]);
    const artifacts = (await server.api("GET", "/projects/identity/artifacts")).body.artifacts;
    expect(artifacts).toHaveLength(2);
    for (const artifact of artifacts) expect(artifact.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
    const graph = await lineage("identity", { namespace: "gs://bucket", name: "data/x.csv" });
    expect(labelledGraph(graph.body)).toEqual({
      nodes: ["bigquery|proj.ds.table", "gs://bucket|data/x.csv", "run load", "run train.prep"],
      edges: [
        "gs://bucket|data/x.csv -> run train.prep (input)",
        "run load -> gs://bucket|data/x.csv (output)",
        "run train.prep -> bigquery|proj.ds.table (output)",
      ],
    });
    const base = graph.body.nodes.find((node: { id: string }) => node.id === graph.body.base);
    expect(base.openlineage).toEqual({ namespace: "gs://bucket", name: "data/x.csv" });
    expect(base.artifact).toMatch(/^data_x.csv-[0-9a-f]{10}$/);
  });

  it("versions by datasetVersion when given, else one per writing run; readers get the newest as of their event", async () => {
    const job = { namespace: "etl", name: "write" };
    const reader = { namespace: "etl", name: "read" };
    const table = { namespace: "pg", name: "db.t" };
    await ingest("versions", [
      runEvent({
        eventTime: "2026-01-01T00:00:00Z",
        runId: "a0000000-0000-4000-8000-000000000001",
        job,
        outputs: [table],
      }),
      runEvent({
        eventTime: "2026-01-01T02:00:00Z",
        runId: "a0000000-0000-4000-8000-000000000002",
        job,
        outputs: [table],
      }),
      // Read at 01:00: the version the 00:00 run wrote, though a newer one arrived first.
      runEvent({
        eventTime: "2026-01-01T01:00:00Z",
        runId: "a0000000-0000-4000-8000-000000000003",
        job: reader,
        inputs: [table],
      }),
      runEvent({
        eventTime: "2026-01-01T03:00:00Z",
        runId: "a0000000-0000-4000-8000-000000000004",
        job,
        outputs: [{ ...table, version: "snap-7" }],
      }),
      runEvent({
        eventTime: "2026-01-01T04:00:00Z",
        runId: "a0000000-0000-4000-8000-000000000005",
        job,
        outputs: [{ ...table, version: "snap-7" }],
      }),
    ]);
    const [artifact] = (await server.api("GET", "/projects/versions/artifacts")).body.artifacts;
    const versions = (await server.api("GET", `/projects/versions/artifacts/${artifact.name}`)).body;
    expect(versions.versionCount ?? versions.versions.length).toBe(3);
    const readRun = await lineage("versions", {
      node: "run:a0000000-0000-4000-8000-000000000003",
      upstream: "2",
      downstream: "0",
    });
    const read = readRun.body.nodes.filter((node: { kind: string }) => node.kind === "version");
    expect(read.map((node: { version: string }) => node.version)).toEqual(["v0"]);
    const snap = await lineage("versions", { node: "dataset:pg:db.t", upstream: "1", downstream: "0" });
    const producers = snap.body.nodes.filter((node: { kind: string }) => node.kind === "run");
    expect(producers).toHaveLength(2);
    const details = await server.api("GET", `/projects/versions/versions/${snap.body.base}`);
    expect(details.body.openlineage).toMatchObject({ namespace: "pg", name: "db.t", datasetVersion: "snap-7" });
  });

  it("stores dataset facets on the version, shown in its details (the schema among them)", async () => {
    await ingest("facets", scenarioEvents("dbt-csv-to-postgres"));
    const graph = await lineage("facets", { ...dbtBase, upstream: "0" });
    const details = await server.api("GET", `/projects/facets/versions/${graph.body.base}`);
    expect(details.body.openlineage.facets.schema.fields.map((field: { name: string }) => field.name)).toEqual([
      "customer_id",
      "total_revenue",
    ]);
    expect(details.body.openlineage.facets.documentation.description).toBe(
      "Customer analytics with aggregated metrics",
    );
    expect(details.body.openlineage.facets.columnLineage.fields.total_orders).toBeDefined();
  });

  it("applies a dataset event's facets and keeps a job event's declared lineage", async () => {
    const marquez = Object.fromEntries(scenarioFiles("marquez").map(({ file, event }) => [file, event]));
    expect((await post("/lineage?project=kinds", marquez["event_dataset_event.json"])).status).toBe(201);
    expect((await post("/lineage?project=kinds", marquez["event_job_event.json"])).status).toBe(201);
    const dataset = await lineage("kinds", { node: "dataset:my-dataset-namespace:my-dataset-name" });
    const details = await server.api("GET", `/projects/kinds/versions/${dataset.body.base}`);
    expect(details.body.openlineage.facets.schema.fields).toEqual([
      { name: "col_a", type: "VARCHAR", description: "string" },
    ]);
    const job = await lineage("kinds", { node: "job:my-scheduler-namespace:myjob" });
    expect(labelledGraph(job.body).edges).toEqual([
      "my-datasource-namespace|instance.schema.input-1 -> run myjob (input)",
      "run myjob -> my-datasource-namespace|instance.schema.output-1 (output)",
    ]);
  });

  it("keeps unknown facets", async () => {
    const event = runEvent({
      eventTime: "2026-01-01T00:00:00Z",
      runId: "c0000000-0000-4000-8000-000000000001",
      job: { namespace: "x", name: "custom" },
      runFacets: { spark_properties: testFacet({ properties: { "spark.master": "yarn" } }) },
    });
    await post("/lineage?project=custom", event);
    const run = await lineage("custom", { node: "run:c0000000-0000-4000-8000-000000000001", upstream: "0" });
    const details = await server.api("GET", `/projects/custom/runs/${run.body.base}`);
    expect(details.body.openlineage.runFacets.spark_properties.properties).toEqual({ "spark.master": "yarn" });
  });
});

describe("openlineage ingest: the HTTP transport", () => {
  const event = runEvent({
    eventTime: "2026-01-01T00:00:00Z",
    runId: "d0000000-0000-4000-8000-000000000001",
    job: { namespace: "gz", name: "zipped" },
  });

  it("takes a gzipped body, and the project from the x-pedigree-project header", async () => {
    const response = await fetch(`${server.url}/api/v1/lineage`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${server.apiKey}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
        "x-pedigree-project": "zipped",
      },
      body: gzipSync(JSON.stringify(event)),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ project: "zipped", accepted: 1 });
  });

  it("refuses a gzip bomb with a 413, before reading it all", async () => {
    const bomb = gzipSync(Buffer.alloc(80 * 1024 * 1024, 32));
    const response = await fetch(`${server.url}/api/v1/lineage/batch`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${server.apiKey}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
      },
      body: bomb,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      field: "body",
    });
  });

  it("lands in the project `openlineage` by default", async () => {
    const response = await post("/lineage", event);
    expect(response.body).toMatchObject({ project: "openlineage", accepted: 1 });
  });

  it("answers 400 naming the field, and records nothing of the batch", async () => {
    const missing = await post("/lineage?project=bad", { ...event, run: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: "BAD_REQUEST", field: "run.runId" });
    const notUuid = await post("/lineage?project=bad", { ...event, run: { runId: "nope" } });
    expect(notUuid.body.error.field).toBe("run.runId");
    const batch = await post("/lineage/batch?project=bad", [event, { ...event, eventTime: "yesterday" }]);
    expect(batch.status).toBe(400);
    expect(batch.body.error.field).toBe("1.eventTime");
    const badFacet = await post("/lineage?project=bad", {
      ...event,
      job: { ...event.job, facets: { sql: { query: 1 } } },
    });
    expect(badFacet.body.error.field).toMatch(/^job\.facets\.sql\./);
    expect((await post("/lineage?project=Bad!", event)).body.error.field).toBe("project");
    expect((await server.api("GET", "/projects/bad/runs")).status).toBe(404);
  });

  it("needs write access to the project; a viewer gets 403, a stranger 404", async () => {
    await post("/lineage?project=guarded", event);
    const viewer = (await post("/users", { name: "ol-viewer" })).body.apiKey;
    const stranger = (await post("/users", { name: "ol-stranger" })).body.apiKey;
    await server.api("PUT", "/projects/guarded/members/ol-viewer", { role: "viewer" });
    expect((await post("/lineage?project=guarded", event, viewer)).status).toBe(403);
    expect((await post("/lineage?project=guarded", event, stranger)).status).toBe(404);
    expect((await server.api("GET", "/projects/guarded/lineage?node=job:gz:zipped", undefined, viewer)).status).toBe(
      200,
    );
    expect((await server.api("GET", "/projects/guarded/lineage?node=job:gz:zipped", undefined, stranger)).status).toBe(
      404,
    );
  });
});

describe("openlineage node ids in lineage, impact and path", () => {
  it("takes dataset:, job: and run: ids, and namespace + name", async () => {
    await ingest("ids", scenarioEvents("dbt-csv-to-postgres"));
    const byId = await lineage("ids", dbtBase);
    const byParts = await lineage("ids", {
      namespace: pg,
      name: "dbt_test.main.customer_analytics",
      upstream: "3",
      downstream: "0",
    });
    expect(labelledGraph(byParts.body)).toEqual(labelledGraph(byId.body));
    expect(byParts.body.base).toBe(byId.body.base);
    const job = await lineage("ids", {
      node: "job",
      namespace: "dbt",
      name: "dbt_test.main.openlineage_compatibility_test.stg_orders",
      upstream: "0",
      downstream: "0",
    });
    const run = await lineage("ids", {
      node: "run:019a977e-cd22-77d8-9146-6bbbbce77b6e",
      upstream: "0",
      downstream: "0",
    });
    expect(job.body.base).toBe(run.body.base);
    const impact = await server.api(
      "GET",
      `/projects/ids/impact?node=${encodeURIComponent(`dataset:${pg}:dbt_test.main.stg_orders`)}`,
    );
    expect(impact.status).toBe(200);
    expect(impact.body.runCount).toBe(1);
    const path = await server.api(
      "GET",
      `/projects/ids/lineage/path?${new URLSearchParams({ from: `dataset:${pg}:dbt_test.main.stg_orders`, toNamespace: pg, toName: "dbt_test.main.customer_analytics" })}`,
    );
    expect(path.body.nodes.map((node: { kind: string }) => node.kind)).toEqual(["version", "run", "version"]);
    const unknown = await lineage("ids", { node: "dataset:nowhere:nothing" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.field).toBe("node");
  });
});
