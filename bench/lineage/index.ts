/**
 * bench/lineage: synthetic ML graphs in real PostgreSQL (set-based generate_series inserts into a dedicated
 * database), then lineage queries through the SDK against the server in its own process, next to the bare
 * recursive SQL for the same answers (the floor).
 *   pnpm bench:lineage [--sizes 1e4,1e5,1e6] [--iterations 200] [--keep]
 *
 * Edges are inserted as the server writes them, through the trigger that keeps their ends' types beside them.
 * The graph at N nodes: a hub dataset read by H = min(100,000, N/10) probe runs that each log a score,
 * and pipelines of 12 nodes filling the rest: raw → prep → split → train → model → 3 evals → 3 results
 * → report, where each prep also reads the previous pipeline's split (chains of pipelines).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pedigree } from "@pedigree/sdk";
import postgres from "postgres";
import { createBenchDatabase, percentile, startServerProcess } from "../../test/fixtures/server-process";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1e4,1e5,1e6" },
    iterations: { type: "string", default: "200" },
    /** Leave the databases behind (for EXPLAIN); the next run of the same size replaces them. */
    keep: { type: "boolean", default: false },
  },
});
const sizes = (values.sizes ?? "").split(",").map((size) => Math.round(Number(size)));
const iterations = Number(values.iterations);

const runId = (n: string) => `'r' || lpad((${n})::text, 7, '0')`;
const versionId = (n: string) => `'av_' || lpad((${n})::text, 16, '0')`;

interface Shape {
  nodes: number;
  hubRuns: number;
  pipelines: number;
}

function shapeOf(nodes: number): Shape {
  const hubRuns = Math.min(100_000, Math.floor(nodes / 10));
  return { nodes, hubRuns, pipelines: Math.floor((nodes - 1 - 2 * hubRuns) / 12) };
}

/** Every row in a handful of set-based statements. */
async function buildGraph(sql: postgres.Sql, { hubRuns: H, pipelines: P }: Shape) {
  const [user] = await sql`select id from users limit 1`;
  const owner = user?.id as string;
  const q = (text: string) => sql.unsafe(text.replaceAll(":owner", `'${owner}'`));
  await q(`insert into projects (name) values ('bench')`);
  // Artifacts: 4 per pipeline (raw, split, model, result), then the hub and 1,000 score artifacts.
  await q(`insert into artifacts (id, project, name, type, version_count)
    select 4 * p + k + 1, 'bench', (array['raw','split','model','result'])[k + 1] || '-' || p,
           (array['dataset','dataset','model','eval-results'])[k + 1], case when k = 3 then 3 else 1 end
    from generate_series(0, ${P - 1}) p, generate_series(0, 3) k`);
  await q(`insert into artifacts (id, project, name, type, version_count)
    values (${4 * P + 1}, 'bench', 'hub', 'dataset', 1)`);
  await q(`insert into artifacts (id, project, name, type, version_count)
    select ${4 * P + 2} + s, 'bench', 'score-' || s, 'score', (${H} - s + 999) / 1000
    from generate_series(0, 999) s`);
  await q(`select setval(pg_get_serial_sequence('artifacts', 'id'), (select max(id) from artifacts))`);
  // Versions: 6 per pipeline (raw, split, model, 3 results), the hub, H scores.
  const version = (id: string, artifact: string, index: string) => `
    select ${versionId(id)}, 'bench', ${artifact}, ${index}, 'committed', md5((${id})::text) || md5((${id})::text),
           '[]'::jsonb, 0, 0, :owner, now()`;
  const versionColumns = `insert into versions (id, project, artifact_id, index, state, digest, manifest, size,
    file_count, created_by, committed_at)`;
  await q(`${versionColumns} ${version("6 * p + k", "4 * p + least(k, 3) + 1", "greatest(k - 3, 0)")}
    from generate_series(0, ${P - 1}) p, generate_series(0, 5) k`);
  await q(`${versionColumns} ${version(String(6 * P), String(4 * P + 1), "0")}`);
  await q(`${versionColumns} ${version(`${6 * P + 1} + i`, `${4 * P + 2} + i % 1000`, "i / 1000")}
    from generate_series(0, ${H - 1}) i`);
  // Runs: 6 per pipeline (prep, train, 3 evals, report), then H probes.
  const runColumns = `insert into runs (id, project, name, ordinal, job_type, state, created_by)`;
  await q(`${runColumns} select ${runId("6 * p + k")}, 'bench', 'run-' || (6 * p + k), 6 * p + k,
      (array['preprocess','training','eval','eval','eval','report'])[k + 1], 'finished', :owner
    from generate_series(0, ${P - 1}) p, generate_series(0, 5) k`);
  await q(`${runColumns} select ${runId(`${6 * P} + i`)}, 'bench', 'probe-' || i, ${6 * P} + i, 'probe', 'finished', :owner
    from generate_series(0, ${H - 1}) i`);
  // Input edges: raw → prep, previous split → prep, split → train, model → evals, results → report, hub → probes.
  await q(`insert into run_inputs (run_id, version_id, requested_ref)
    select ${runId("6 * p")}, ${versionId("6 * p")}, 'raw' from generate_series(0, ${P - 1}) p
    union all select ${runId("6 * p")}, ${versionId("6 * (p - 1) + 1")}, 'split' from generate_series(1, ${P - 1}) p
    union all select ${runId("6 * p + 1")}, ${versionId("6 * p + 1")}, 'split' from generate_series(0, ${P - 1}) p
    union all select ${runId("6 * p + 2 + j")}, ${versionId("6 * p + 2")}, 'model:latest'
      from generate_series(0, ${P - 1}) p, generate_series(0, 2) j
    union all select ${runId("6 * p + 5")}, ${versionId("6 * p + 3 + j")}, 'result'
      from generate_series(0, ${P - 1}) p, generate_series(0, 2) j
    union all select ${runId(`${6 * P} + i`)}, ${versionId(String(6 * P))}, 'hub:latest' from generate_series(0, ${H - 1}) i`);
  // Output edges: prep → split, train → model, evals → results, probes → scores.
  await q(`insert into run_outputs (run_id, version_id)
    select ${runId("6 * p")}, ${versionId("6 * p + 1")} from generate_series(0, ${P - 1}) p
    union all select ${runId("6 * p + 1")}, ${versionId("6 * p + 2")} from generate_series(0, ${P - 1}) p
    union all select ${runId("6 * p + 2 + j")}, ${versionId("6 * p + 3 + j")}
      from generate_series(0, ${P - 1}) p, generate_series(0, 2) j
    union all select ${runId(`${6 * P} + i`)}, ${versionId(`${6 * P + 1} + i`)} from generate_series(0, ${H - 1}) i`);
  await q("vacuum analyze");
  return {
    hub: `av_${String(6 * P).padStart(16, "0")}`,
    model: (p: number) => `av_${String(6 * p + 2).padStart(16, "0")}`,
  };
}

/**
 * A reader who is a member of the bench project only (not a server admin, so lineage checks projects): a user
 * made through the API, with the member role.
 */
async function memberOfBench(baseUrl: string, adminKey: string): Promise<Pedigree> {
  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<{ apiKey?: string }>;
  };
  const created = await call("POST", "/users", { name: "bench-member" });
  await call("PUT", "/projects/bench/members/bench-member", { role: "member" });
  return new Pedigree({ baseUrl, apiKey: created.apiKey as string, project: "bench", timeoutMs: 120_000 });
}

/** The floor: the bare recursive walk, both directions in one statement, answering node ids, depths and edges. */
function floorQuery(sql: postgres.Sql, base: string, upstream: number, downstream: number) {
  return sql`
    with recursive
    up(id, kind, depth, via) as (
      select ${base}::text, 'version'::text, 0, null::text
      union
      select s.id, s.kind, up.depth + 1, up.id from up cross join lateral (
        select o.run_id as id, 'run'::text as kind from run_outputs o where up.kind = 'version' and o.version_id = up.id
        union all
        select i.version_id, 'version' from run_inputs i where up.kind = 'run' and i.run_id = up.id
      ) s where up.depth < ${upstream}
    ),
    down(id, kind, depth, via) as (
      select ${base}::text, 'version'::text, 0, null::text
      union
      select s.id, s.kind, down.depth + 1, down.id from down cross join lateral (
        select i.run_id as id, 'run'::text as kind from run_inputs i where down.kind = 'version' and i.version_id = down.id
        union all
        select o.version_id, 'version' from run_outputs o where down.kind = 'run' and o.run_id = down.id
      ) s where down.depth < ${downstream}
    )
    select * from up union all select * from down`;
}

async function timed(count: number, task: (index: number) => Promise<unknown>) {
  for (let index = 0; index < Math.min(3, count); index++) await task(index);
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await task(index);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(10);

for (const size of sizes) {
  const shape = shapeOf(size);
  const database = await createBenchDatabase(`pedigree_bench_lineage_${size}`);
  const serverDir = await mkdtemp(join(tmpdir(), "pedigree-bench-lineage-"));
  const server = await startServerProcess({
    dir: serverDir,
    databaseUrl: database.url,
    apiKey: "pdg_bench_lineage_key",
  });
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const buildStarted = performance.now();
    const graph = await buildGraph(sql, shape);
    const [{ count } = { count: 0 }] =
      await sql`select (select count(*) from runs) + (select count(*) from versions) as count`;
    console.log(
      `\nbench/lineage at ${size.toExponential(0)}: ${count} nodes (${shape.pipelines} pipelines, hub read by ${shape.hubRuns} runs), built in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`,
    );
    const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "bench", timeoutMs: 120_000 });
    const member = await memberOfBench(server.url, server.apiKey);
    const models = Array.from({ length: 50 }, (_, index) =>
      graph.model(Math.floor(((index + 0.5) * shape.pipelines) / 50)),
    );
    const hubIterations = Math.max(5, Math.floor(iterations / 10));

    const cases = [
      {
        name: "ordinary model, 3+3 hops",
        count: iterations,
        sdk: (index: number) => pd.lineage(models[index % models.length] as string, { upstream: 3, downstream: 3 }),
        floor: (index: number) => floorQuery(sql, models[index % models.length] as string, 3, 3),
      },
      {
        name: "hub, 2 hops down, clusters",
        count: hubIterations,
        sdk: () => pd.lineage(graph.hub, { upstream: 0, downstream: 2 }),
        floor: () => floorQuery(sql, graph.hub, 0, 2),
      },
      {
        name: "hub, expandClusters, default budget",
        count: hubIterations,
        sdk: () => pd.lineage(graph.hub, { upstream: 0, downstream: 2, expandClusters: true }),
        floor: () => floorQuery(sql, graph.hub, 0, 2),
      },
      {
        name: "hub, 2 down, clusters, project member",
        count: hubIterations,
        sdk: () => member.lineage(graph.hub, { upstream: 0, downstream: 2 }),
        floor: () => floorQuery(sql, graph.hub, 0, 2),
      },
      {
        name: "hub, expandClusters, maxNodes=10000",
        count: hubIterations,
        sdk: () => pd.lineage(graph.hub, { upstream: 0, downstream: 2, expandClusters: true, maxNodes: 10_000 }),
        floor: () => floorQuery(sql, graph.hub, 0, 2),
      },
    ];
    // The HTTP round trip alone (auth included), to read the ratios against: a tiny query cannot beat it.
    const roundTrip = await timed(iterations, () => pd.whoami());
    console.log(`  HTTP round trip (GET /me through the SDK)  p50 ${ms(roundTrip.p50)} p99 ${ms(roundTrip.p99)}`);
    for (const item of cases) {
      const answer = await item.sdk(0);
      const clusters = answer.nodes.filter((node) => node.kind === "cluster");
      const members = clusters.reduce((sum, node) => sum + (node.kind === "cluster" ? node.memberCount : 0), 0);
      const bytes = Buffer.byteLength(JSON.stringify(answer));
      const sdk = await timed(item.count, item.sdk);
      const floor = await timed(item.count, item.floor);
      console.log(
        `  ${item.name.padEnd(38)} SDK p50 ${ms(sdk.p50)} p99 ${ms(sdk.p99)} | floor p50 ${ms(floor.p50)} p99 ${ms(floor.p99)} | ratio ${(sdk.p50 / floor.p50).toFixed(2)}x, ${(sdk.p50 / (floor.p50 + roundTrip.p50)).toFixed(2)}x of floor + round trip | ${answer.nodes.length} nodes (${clusters.length} clusters of ${members}), ${(bytes / 1024).toFixed(1)} KB${answer.truncated ? ", budget clustered" : ""}`,
      );
    }
  } finally {
    await sql.end();
    await server.stop();
    await (values.keep ? database.keep() : database.drop());
    await rm(serverDir, { recursive: true, force: true });
  }
}
