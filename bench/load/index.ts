/**
 * bench/load: C concurrent clients (each its own user, API key and SDK instance) each run R runs against one
 * server (its own process) on real PostgreSQL. Every run uses the shared dataset and the client's previous
 * model, logs a new model; every 10th run also logs a 128 KiB evaluation into one artifact all clients share
 * (uploaded, not inline, and contended). At the end the database must hold exactly the expected rows.
 *   pnpm bench:load [--clients 50] [--runs 100]
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Artifact, Pedigree } from "@pedigree/sdk";
import postgres from "postgres";
import { createBenchDatabase, percentile, startServerProcess } from "../../test/fixtures/server-process";

const { values } = parseArgs({
  options: { clients: { type: "string", default: "50" }, runs: { type: "string", default: "100" } },
});
const clients = Number(values.clients);
const runsPerClient = Number(values.runs);
const EVAL_EVERY = 10;
const PROJECT = "load";

type Operation = "init" | "useArtifact" | "logArtifact" | "finish";
const latencies: Record<Operation, number[]> = { init: [], useArtifact: [], logArtifact: [], finish: [] };
const errors: string[] = [];

async function timed<T>(operation: Operation, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    latencies[operation].push(performance.now() - started);
  }
}

async function api(url: string, apiKey: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** The admin makes the project, its dataset, and one member user per client. */
async function setUp(url: string, adminKey: string, workDir: string): Promise<string[]> {
  const admin = new Pedigree({ baseUrl: url, apiKey: adminKey, project: PROJECT, retries: 0 });
  const seed = await admin.init({ jobType: "seed" });
  const file = join(workDir, "train.csv");
  await writeFile(file, "x,y\n1,2\n");
  const dataset = new Artifact({ name: "train-data", type: "dataset" });
  await dataset.addFile(file);
  await seed.logArtifact(dataset);
  await seed.finish();
  const keys: string[] = [];
  for (let client = 0; client < clients; client++) {
    const created = (await api(url, adminKey, "POST", "/users", { name: `client-${client}` })) as { apiKey: string };
    await api(url, adminKey, "PUT", `/projects/${PROJECT}/members/client-${client}`, { role: "member" });
    keys.push(created.apiKey);
  }
  return keys;
}

/** One client's R runs, one after another, as a training script would. */
async function runClient(url: string, apiKey: string, client: number, workDir: string) {
  const pd = new Pedigree({ baseUrl: url, apiKey, project: PROJECT, retries: 0 });
  const model = `model-${client}`;
  for (let index = 0; index < runsPerClient; index++) {
    try {
      const run = await timed("init", () => pd.init({ jobType: "training", config: { client, index } }));
      await timed("useArtifact", () => run.useArtifact("train-data:latest"));
      if (index > 0) await timed("useArtifact", () => run.useArtifact(`${model}:latest`));
      const weights = join(workDir, `${model}-${index}.json`);
      await writeFile(weights, JSON.stringify({ client, index, weights: randomBytes(32).toString("hex") }));
      const artifact = new Artifact({ name: model, type: "model" });
      await artifact.addFile(weights, { name: "weights.json" });
      await timed("logArtifact", () => run.logArtifact(artifact));
      if (index % EVAL_EVERY === 0) {
        const report = join(workDir, `eval-${client}-${index}.bin`);
        await writeFile(report, randomBytes(128 * 1024));
        const evaluation = new Artifact({ name: "shared-eval", type: "evaluation" });
        await evaluation.addFile(report, { name: "report.bin" });
        await timed("logArtifact", () => run.logArtifact(evaluation));
      }
      await timed("finish", () => run.finish());
    } catch (error) {
      errors.push(`client ${client} run ${index}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Exactly the rows the load must leave, counted in PostgreSQL. */
async function checkRows(databaseUrl: string): Promise<string[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const total = clients * runsPerClient;
    const evals = clients * Math.ceil(runsPerClient / EVAL_EVERY);
    const expected: Record<string, number> = {
      "finished training runs": total,
      "input edges": total + clients * (runsPerClient - 1),
      "output edges": total + evals,
      "committed model versions": total,
      "committed shared-eval versions": evals,
      "pending versions": 0,
    };
    const [row] = await sql`
      select
        (select count(*)::int from runs where project = ${PROJECT} and job_type = 'training' and state = 'finished') as a,
        (select count(*)::int from run_inputs i join runs r on r.id = i.run_id where r.job_type = 'training') as b,
        (select count(*)::int from run_outputs o join runs r on r.id = o.run_id where r.job_type = 'training') as c,
        (select count(*)::int from versions v join artifacts a on a.id = v.artifact_id
           where a.type = 'model' and v.state = 'committed') as d,
        (select count(*)::int from versions v join artifacts a on a.id = v.artifact_id
           where a.name = 'shared-eval' and v.state = 'committed') as e,
        (select count(*)::int from versions where state = 'pending') as f`;
    const actual = [row?.a, row?.b, row?.c, row?.d, row?.e, row?.f];
    const problems = Object.entries(expected).flatMap(([what, count], index) =>
      actual[index] === count ? [] : [`${what}: expected ${count}, found ${actual[index]}`],
    );
    // vN is gapless per artifact and the counter behind `latest` agrees.
    const gaps = await sql`
      select a.name from artifacts a left join versions v on v.artifact_id = a.id and v.state = 'committed'
      group by a.id having count(v.id) <> a.version_count or coalesce(max(v.index), -1) <> a.version_count - 1`;
    for (const gap of gaps) problems.push(`artifact ${gap.name}: versions are not v0..v${"N"} without gaps`);
    return problems;
  } finally {
    await sql.end();
  }
}

const database = await createBenchDatabase("pedigree_bench_load");
const workDir = await mkdtemp(join(tmpdir(), "pedigree-load-"));
// The per-key write limit stays on (its default): each client has its own key, as real users would.
const server = await startServerProcess({
  dir: join(workDir, "server"),
  databaseUrl: database.url,
  apiKey: `pdg_bench_load_${randomBytes(8).toString("hex")}`,
  env: { PEDIGREE_RATE_LIMIT: "" },
});
try {
  const keys = await setUp(server.url, server.apiKey, workDir);
  const started = performance.now();
  await Promise.all(keys.map((key, client) => runClient(server.url, key, client, workDir)));
  const seconds = (performance.now() - started) / 1000;
  const problems = await checkRows(database.url);

  const runs = clients * runsPerClient;
  const operations = Object.values(latencies)
    .flat()
    .sort((a, b) => a - b);
  console.log(`bench/load: ${clients} clients x ${runsPerClient} runs, PostgreSQL, server in its own process`);
  console.log(`  wall time   : ${seconds.toFixed(1)} s`);
  console.log(
    `  throughput  : ${(runs / seconds).toFixed(0)} runs/s, ${(operations.length / seconds).toFixed(0)} SDK calls/s`,
  );
  console.log(
    `  latency     : all calls p50 ${percentile(operations, 50).toFixed(1)} ms, p99 ${percentile(operations, 99).toFixed(1)} ms`,
  );
  for (const [operation, values] of Object.entries(latencies)) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `  ${operation.padEnd(12)}: ${String(sorted.length).padStart(6)} calls, p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
    );
  }
  console.log(`  errors      : ${errors.length}${errors.length ? ` (first: ${errors[0]})` : ""}`);
  console.log(`  rows        : ${problems.length === 0 ? "exactly as expected" : problems.join("; ")}`);
  if (errors.length > 0 || problems.length > 0) process.exitCode = 1;
} finally {
  await server.stop();
  await database.drop();
  await rm(workDir, { recursive: true, force: true });
}
