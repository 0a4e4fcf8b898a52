import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
/**
 * bench/history: a collection's action history at 10^6 events on real PostgreSQL, listed over HTTP through the
 * server in its own process. The events are written straight into the table in batches (a fast path) with a
 * correct hash chain, so `history/verify` passes; then p50/p95 of the first page and of a page deep in the
 * cursor (and of filtered pages) are measured. Target: p50 under 20 ms.
 *   pnpm bench:history [--events 1000000] [--samples 200] [--verify]
 */
import { parseArgs } from "node:util";
import type { HistoryEvent } from "@pedigree/protocol";
import postgres from "postgres";
import { eventHash, historyCursorAfter } from "../../packages/server/src/registry/history";
import { createBenchDatabase, percentile, startServerProcess } from "../../test/fixtures/server-process";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    samples: { type: "string", default: "200" },
    verify: { type: "boolean", default: false },
  },
});
const eventCount = Number(values.events);
const samples = Number(values.samples);
const BATCH = 20_000;
const STEP_MS = 1000;

async function call(url: string, apiKey: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Appends `count` alias_added/alias_removed events after the collection's two real events, chained correctly. */
async function fillHistory(databaseUrl: string, count: number) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const [collection] = await sql`select id, event_count, head_hash from collections where name = 'bench'`;
  const [membership] = await sql`select version_id from collection_memberships where collection_id = ${collection?.id}`;
  const [user] = await sql`select id, name from users limit 1`;
  const [last] = await sql`select max(id)::int as id, max(at) as at from history_events`;
  if (!collection || !membership || !user || !last) throw new Error("the bench collection is not set up");
  const base = { registry: "model", collection: "bench" };
  let prevHash: string = collection.head_hash;
  let seq: number = collection.event_count;
  let id: number = last.id;
  const start = (last.at as Date).getTime();
  const started = performance.now();
  for (let done = 0; done < count; done += BATCH) {
    const ids: number[] = [];
    const seqs: number[] = [];
    const actions: string[] = [];
    const ats: string[] = [];
    const prevHashes: string[] = [];
    const hashes: string[] = [];
    for (let index = done; index < Math.min(count, done + BATCH); index++) {
      seq += 1;
      id += 1;
      const event: Omit<HistoryEvent, "hash"> = {
        id: String(id),
        seq,
        ...base,
        // Added first, so an even count ends with `staging` removed, as the alias rows say: verify's replay agrees.
        action: index % 2 === 0 ? "alias_added" : "alias_removed",
        actor: user.name,
        actorId: user.id,
        at: new Date(start + (index + 1) * STEP_MS).toISOString(),
        version: "v0",
        sourceVersion: "bench-model:v0",
        sourceProject: "bench",
        sourceVersionId: membership.version_id,
        alias: "staging",
        details: null,
        prevHash,
      };
      const hash = eventHash(event);
      ids.push(id);
      seqs.push(seq);
      actions.push(event.action);
      ats.push(event.at);
      prevHashes.push(prevHash);
      hashes.push(hash);
      prevHash = hash;
    }
    await sql`
      insert into history_events (id, collection_id, seq, action, actor_id, actor_name, at, collection_version,
        source_version_id, source_version, source_project, alias, prev_hash, hash)
      select id, ${collection.id}, seq, action, ${user.id}, ${user.name}, at, 0, ${membership.version_id},
        'bench-model:v0', 'bench', 'staging', prev_hash, hash
      from unnest(${ids}::bigint[], ${seqs}::int[], ${actions}::text[], ${ats}::timestamptz[],
        ${prevHashes}::text[], ${hashes}::text[]) as t(id, seq, action, at, prev_hash, hash)`;
  }
  await sql`select setval('history_events_id_seq', ${id})`;
  await sql`update collections set event_count = ${seq}, head_hash = ${prevHash} where id = ${collection.id}`;
  await sql`analyze history_events`;
  const seconds = (performance.now() - started) / 1000;
  await sql.end();
  return { seconds, lastId: id, start };
}

async function timed(url: string, apiKey: string, path: string) {
  const times: number[] = [];
  let events = 0;
  for (let index = 0; index < samples; index++) {
    const started = performance.now();
    const page = await call(url, apiKey, "GET", path);
    times.push(performance.now() - started);
    events = page.events.length;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), events };
}

const database = await createBenchDatabase("pedigree_bench_history");
const serverDir = await mkdtemp(join(tmpdir(), "pedigree-bench-history-"));
const server = await startServerProcess({ dir: serverDir, databaseUrl: database.url, apiKey: "pdg_bench_history_key" });
try {
  const { url, apiKey } = server;
  await call(url, apiKey, "POST", "/registries", { name: "model" });
  await call(url, apiKey, "POST", "/projects/bench/versions", {
    name: "bench-model",
    type: "model",
    manifest: [{ path: "model.bin", uri: "s3://bench/model.bin" }],
  });
  await call(url, apiKey, "POST", "/registries/model/collections/bench/versions", {
    project: "bench",
    ref: "bench-model",
  });
  const filled = await fillHistory(database.url, eventCount);
  const path = "/registries/model/collections/bench/history";
  // A cursor 90% of the way down the history (newest first): the page after the event at that depth.
  const deepIndex = Math.floor(eventCount * 0.1);
  const deepCursor = historyCursorAfter({
    at: new Date(filled.start + (deepIndex + 1) * STEP_MS),
    id: filled.lastId - eventCount + deepIndex + 1,
  });
  await timed(url, apiKey, `${path}?limit=100`); // warm-up
  const first = await timed(url, apiKey, `${path}?limit=100`);
  const deep = await timed(url, apiKey, `${path}?limit=100&cursor=${deepCursor}`);
  const filtered = await timed(url, apiKey, `${path}?limit=100&action=alias_added&cursor=${deepCursor}`);
  const ranged = await timed(
    url,
    apiKey,
    `${path}?limit=100&from=${new Date(filled.start + deepIndex * STEP_MS).toISOString()}&to=${new Date(filled.start + (deepIndex + 5000) * STEP_MS).toISOString()}`,
  );
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  console.log(`bench/history: ${eventCount + 2} events in one collection, PostgreSQL, server in its own process`);
  console.log(`  fill (fast path, chained): ${filled.seconds.toFixed(1)} s`);
  for (const [label, figures] of [
    ["first page (100)          ", first],
    ["deep cursor page (90%)    ", deep],
    ["deep page, action filter  ", filtered],
    ["time-range page           ", ranged],
  ] as const) {
    console.log(
      `  ${label}: p50 ${ms(figures.p50)}, p95 ${ms(figures.p95)} (${samples} requests, ${figures.events} events)`,
    );
  }
  console.log(`  target: p50 under 20 ms: ${first.p50 < 20 && deep.p50 < 20 ? "met" : "NOT met"}`);
  if (values.verify) {
    const started = performance.now();
    const verification = await call(url, apiKey, "GET", `${path}/verify`);
    console.log(
      `  verify (chain and replay): ok=${verification.ok}, ${verification.eventCount} events in ${((performance.now() - started) / 1000).toFixed(1)} s, ${verification.stateDifferences.length} state differences`,
    );
  }
} finally {
  await server.stop();
  await rm(serverDir, { recursive: true, force: true });
  await database.drop();
}
