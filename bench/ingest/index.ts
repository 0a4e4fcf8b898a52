/**
 * bench/ingest: N runs, each using 2 versions and logging 1 small artifact, through the SDK against the server
 * (its own process) on real PostgreSQL; then the same rows written straight with SQL as the floor.
 *   pnpm bench:ingest [--runs 2000] [--concurrency 16]
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp as makeTempDir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Artifact, Pedigree } from "@pedigree/sdk";
import postgres from "postgres";
import { createBenchDatabase, startServerProcess } from "../../test/fixtures/server-process";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "2000" }, concurrency: { type: "string", default: "16" } },
});
const runCount = Number(values.runs);
const concurrency = Number(values.concurrency);
const EDGES_PER_RUN = 3;

async function inParallel(count: number, limit: number, task: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let index = next++; index < count; index = next++) await task(index);
    }),
  );
}

async function throughSdk(url: string, apiKey: string) {
  const workDir = await mkdtemp(join(tmpdir(), "pedigree-ingest-"));
  const pd = new Pedigree({ baseUrl: url, apiKey, project: "ingest", pedigreeDir: workDir });
  const seed = await pd.init({ jobType: "seed" });
  for (const name of ["train-data", "base-model"]) {
    const file = join(workDir, name);
    await writeFile(file, name);
    const artifact = new Artifact({ name, type: name === "train-data" ? "dataset" : "model" });
    await artifact.addFile(file);
    await seed.logArtifact(artifact);
  }
  await seed.finish();

  const started = performance.now();
  await inParallel(runCount, concurrency, async (index) => {
    const run = await pd.init({ jobType: "training", config: { index } });
    await run.useArtifact("train-data:latest");
    await run.useArtifact("base-model:v0");
    const file = join(workDir, `metrics-${index}.json`);
    await writeFile(file, JSON.stringify({ index, loss: Math.random() }));
    const result = new Artifact({ name: `metrics-${index % 50}`, type: "metrics" });
    await result.addFile(file, { name: "metrics.json" });
    await run.logArtifact(result);
    await run.finish();
  });
  return (performance.now() - started) / 1000;
}

/** The floor: the same rows (run, two input edges, blob, version, output edge, finish) straight into SQL. */
async function throughSql(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: concurrency, onnotice: () => {} });
  const [user] = await sql`select id from users limit 1`;
  await sql`insert into projects (name) values ('floor') on conflict do nothing`;
  const [dataset] = await sql`select id from versions where state = 'committed' order by created_at limit 1`;
  const [model] = await sql`select id from versions where state = 'committed' order by created_at desc limit 1`;
  const started = performance.now();
  await inParallel(runCount, concurrency, async (index) => {
    const runId = randomBytes(4).toString("hex");
    const content = JSON.stringify({ index, loss: Math.random() });
    const sha = createHash("sha256").update(content).digest("hex");
    await sql.begin(async (tx) => {
      await tx`insert into runs (id, project, name, ordinal, job_type, config, created_by)
               values (${runId}, 'floor', ${`run-${index}`}, ${index}, 'training', ${tx.json({ index })}, ${user?.id})`;
      await tx`insert into run_inputs (run_id, version_id, requested_ref) values (${runId}, ${dataset?.id}, 'train-data:latest'), (${runId}, ${model?.id}, 'base-model:v0')`;
      await tx`insert into blobs (sha256, size) values (${sha}, ${content.length}) on conflict do nothing`;
      const [artifact] =
        await tx`insert into artifacts (project, name, type) values ('floor', ${`metrics-${index % 50}`}, 'metrics')
               on conflict (project, name) do update set type = excluded.type returning id, version_count`;
      const [locked] = await tx`select version_count from artifacts where id = ${artifact?.id} for update`;
      const versionId = `av_${randomBytes(8).toString("hex")}`;
      await tx`insert into versions (id, project, artifact_id, index, state, digest, manifest, size, file_count, created_by, committed_at)
               values (${versionId}, 'floor', ${artifact?.id}, ${locked?.version_count}, 'committed', ${sha},
                       ${tx.json([{ path: "metrics.json", sha256: sha, size: content.length }])}, ${content.length}, 1, ${user?.id}, now())`;
      await tx`update artifacts set version_count = version_count + 1 where id = ${artifact?.id}`;
      await tx`insert into run_outputs (run_id, version_id) values (${runId}, ${versionId})`;
      await tx`update runs set state = 'finished', finished_at = now() where id = ${runId}`;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  await sql.end();
  return seconds;
}

const database = await createBenchDatabase("pedigree_bench_ingest");
const serverDir = await makeTempDir(join(tmpdir(), "pedigree-bench-"));
const server = await startServerProcess({ dir: serverDir, databaseUrl: database.url, apiKey: "pdg_bench_ingest_key" });
try {
  const sdkSeconds = await throughSdk(server.url, server.apiKey);
  const floorSeconds = await throughSql(database.url);
  const sdkRate = runCount / sdkSeconds;
  const floorRate = runCount / floorSeconds;
  console.log(`bench/ingest: ${runCount} runs, concurrency ${concurrency}, PostgreSQL, server in its own process`);
  console.log(
    `  SDK over HTTP : ${sdkRate.toFixed(0)} runs/s, ${(sdkRate * EDGES_PER_RUN).toFixed(0)} edges/s (${sdkSeconds.toFixed(2)} s)`,
  );
  console.log(
    `  SQL floor     : ${floorRate.toFixed(0)} runs/s, ${(floorRate * EDGES_PER_RUN).toFixed(0)} edges/s (${floorSeconds.toFixed(2)} s)`,
  );
  console.log(
    `  ratio         : ${(floorRate / sdkRate).toFixed(2)}x slower than the floor (target: at least 300 runs/s, within 5x)`,
  );
} finally {
  await server.stop();
  await database.drop();
  await rm(serverDir, { recursive: true, force: true });
}
