/**
 * bench/openlineage: OpenLineage run events through POST /api/v1/lineage/batch, batches of 100 events with
 * 3 datasets each (2 inputs, 1 output), against the server in its own process on real PostgreSQL. Each run
 * sends START and COMPLETE; inputs come from a pool of tables, so readers resolve versions others wrote.
 *   pnpm bench:openlineage [--events 6000] [--batch 100] [--concurrency 4]
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createBenchDatabase, startServerProcess } from "../../test/fixtures/server-process";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "6000" },
    batch: { type: "string", default: "100" },
    concurrency: { type: "string", default: "4" },
  },
});
const eventCount = Number(values.events);
const batchSize = Number(values.batch);
const concurrency = Number(values.concurrency);
const DATASETS_PER_EVENT = 3;
const TABLES = 500;

const producer = "https://example.com/pedigree-bench";
const schemaFacet = (table: number) => ({
  schema: {
    _producer: producer,
    _schemaURL: "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    fields: [
      { name: "id", type: "BIGINT" },
      { name: `value_${table % 7}`, type: "DOUBLE" },
    ],
  },
});
const table = (index: number) => ({
  namespace: "postgres://warehouse:5432",
  name: `analytics.public.t${index % TABLES}`,
});

/** Event `index`: runs of two events each (START, COMPLETE), each listing the same three datasets. */
function eventsOf(count: number) {
  const events: unknown[] = [];
  for (let run = 0; events.length < count; run++) {
    const runId = randomUUID();
    const job = { namespace: "airflow", name: `dag_${run % 50}.task_${run % 7}` };
    for (const [offset, eventType] of ["START", "COMPLETE"].entries()) {
      events.push({
        eventType,
        eventTime: new Date(Date.UTC(2026, 0, 1) + run * 60_000 + offset * 30_000).toISOString(),
        producer,
        schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        run: { runId },
        job,
        inputs: [table(run + 1), table(run + 2)].map((dataset, at) => ({ ...dataset, facets: schemaFacet(run + at) })),
        outputs: [{ ...table(run + TABLES / 2), facets: schemaFacet(run) }],
      });
    }
  }
  return events.slice(0, count);
}

async function inParallel(count: number, limit: number, task: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let index = next++; index < count; index = next++) await task(index);
    }),
  );
}

const database = await createBenchDatabase("pedigree_bench_openlineage");
const serverDir = await mkdtemp(join(tmpdir(), "pedigree-bench-"));
const server = await startServerProcess({
  dir: serverDir,
  databaseUrl: database.url,
  apiKey: "pdg_bench_openlineage_key",
});
try {
  const events = eventsOf(eventCount);
  const batches = Array.from({ length: Math.ceil(events.length / batchSize) }, (_, index) =>
    JSON.stringify(events.slice(index * batchSize, (index + 1) * batchSize)),
  );
  const post = async (body: string) => {
    const response = await fetch(`${server.url}/api/v1/lineage/batch?project=bench`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body,
    });
    if (response.status !== 201) throw new Error(`batch answered ${response.status}: ${await response.text()}`);
  };
  // Warm up: the project, the tables and the server's prepared statements.
  await post(JSON.stringify(eventsOf(batchSize)));
  const latencies: number[] = [];
  const started = performance.now();
  // Batches of one run go in order: a run's two events are adjacent, so a run never spans two batches in flight.
  await inParallel(batches.length, concurrency, async (index) => {
    const at = performance.now();
    await post(batches[index] as string);
    latencies.push(performance.now() - at);
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const rate = events.length / seconds;
  console.log(
    `bench/openlineage: ${events.length} events in batches of ${batchSize}, concurrency ${concurrency}, PostgreSQL, server in its own process`,
  );
  console.log(
    `  /lineage/batch : ${rate.toFixed(0)} events/s, ${(rate * DATASETS_PER_EVENT).toFixed(0)} dataset edges/s (${seconds.toFixed(2)} s)`,
  );
  console.log(
    `  batch latency  : p50 ${latencies[Math.floor(latencies.length / 2)]?.toFixed(0)} ms, p95 ${latencies[Math.floor(latencies.length * 0.95)]?.toFixed(0)} ms`,
  );
} finally {
  await server.stop();
  await database.drop();
  await rm(serverDir, { recursive: true, force: true });
}
