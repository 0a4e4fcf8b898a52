import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openPglite, openPostgres } from "@pedigree/server";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectRows, sql } from "../../packages/server/src/db/client";
import { adminUrl, databaseUrl, TEMPLATE_DATABASE } from "../fixtures/postgres-urls";
import { testDatabaseKind } from "../fixtures/server";
import { startServerProcess } from "../fixtures/server-process";

/**
 * The server never half-writes: a real server process is SIGKILLed while many commits are in flight, and
 * the data it leaves behind must hold every invariant. Then it is started again on the same data and
 * keeps numbering where it stopped.
 */
const ADMIN_KEY = `pdg_crash_${randomBytes(12).toString("hex")}`;
const ARTIFACTS = ["ds-a", "ds-b", "ds-c"];
const WORKERS = 12;
const KILLS = 3;

let dir = "";
let databaseName: string | null = null;
const sha256 = (content: string | Buffer) => createHash("sha256").update(content).digest("hex");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pedigree-crash-"));
  if (testDatabaseKind() === "postgres") {
    databaseName = `pedigree_crash_${process.pid}_${randomBytes(4).toString("hex")}`;
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${databaseName} template ${TEMPLATE_DATABASE}`);
    await admin.end();
  }
});
afterAll(async () => {
  if (databaseName) {
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${databaseName} with (force)`);
    await admin.end();
  }
  await rm(dir, { recursive: true, force: true });
});

const start = () =>
  startServerProcess({
    dir,
    apiKey: ADMIN_KEY,
    ...(databaseName ? { databaseUrl: databaseUrl(databaseName) } : {}),
  });

const openData = (): Promise<Database> =>
  databaseName
    ? openPostgres(databaseUrl(databaseName), { maxConnections: 1 })
    : openPglite(join(dir, "data", "pglite"));

/** The fields of run, version and create answers these clients read. */
type Answer = { id: string; version: { id: string; version: string | null } };

/** One client: logs new content again and again (create, upload, commit) until the server goes away. */
async function logUntilGone(url: string, worker: number, acknowledged: Set<string>, stats: { inFlight: number }) {
  const call = async (method: string, path: string, body: unknown, raw = false): Promise<Answer> => {
    stats.inFlight++;
    try {
      const response = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          ...(raw ? {} : { "content-type": "application/json" }),
        },
        body: raw ? (body as string) : JSON.stringify(body),
      });
      const json = (await response.json()) as Answer;
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    } finally {
      stats.inFlight--;
    }
  };
  try {
    const run = await call("POST", "/projects/crash/runs", { jobType: "writer" });
    for (let step = 0; ; step++) {
      // Every fourth file is 2 MiB, so a kill often lands in the middle of an upload too.
      const lines = step % 4 === 3 ? 40_000 : 64;
      const content = `worker ${worker} step ${step} ${randomBytes(8).toString("hex")}\n`.repeat(lines);
      const name = ARTIFACTS[(worker + step) % ARTIFACTS.length];
      const manifest = [{ path: `part-${step}.txt`, sha256: sha256(content), size: Buffer.byteLength(content) }];
      const created = await call("POST", "/projects/crash/versions", {
        name,
        type: "dataset",
        manifest,
        runId: run.id,
      });
      await call("PUT", `/blobs/${sha256(content)}`, content, true);
      const committed = await call("POST", `/projects/crash/versions/${created.version.id}/commit`, {
        runId: run.id,
        aliases: [`w${worker}`],
      });
      acknowledged.add(committed.id);
    }
  } catch {
    // The server was killed under us: expected.
  }
}

interface Invariants {
  committed: number;
  versionCounts: Record<string, number>;
}

/** Reads the data the killed server left and asserts every invariant; answers what is committed. */
async function checkInvariants(acknowledged: Set<string>): Promise<Invariants> {
  const database = await openData();
  try {
    return await database.read(async (db) => {
      const artifacts = await selectRows<{ name: string; version_count: number; n: number; lo: number; hi: number }>(
        db,
        sql`select a.name, a.version_count, count(v.id)::int as n, min(v.index) as lo, max(v.index) as hi
            from artifacts a left join versions v on v.artifact_id = a.id and v.state = 'committed'
            where a.project = 'crash' group by a.id order by a.name`,
      );
      const versionCounts: Record<string, number> = {};
      for (const artifact of artifacts) {
        // No gaps and no duplicates in vN, and the counter behind `latest` agrees with the rows.
        expect(artifact.n, artifact.name).toBe(artifact.version_count);
        if (artifact.n > 0) expect([artifact.lo, artifact.hi], artifact.name).toEqual([0, artifact.n - 1]);
        versionCounts[artifact.name] = artifact.n;
      }
      // `latest` (the highest vN) is the newest commit: vN order is commit order.
      const outOfOrder = await selectRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from versions a join versions b
            on a.artifact_id = b.artifact_id and a.index < b.index and a.committed_at > b.committed_at
            where a.state = 'committed' and b.state = 'committed'`,
      );
      expect(outOfOrder[0]?.n).toBe(0);
      const committed = await selectRows<{ id: string; manifest: { sha256?: string }[] | string; state: string }>(
        db,
        sql`select id, manifest, state from versions where project = 'crash' and state = 'committed'`,
      );
      const committedIds = new Set(committed.map((row) => row.id));
      // Every commit a client was told about survived the kill.
      for (const id of acknowledged) expect(committedIds.has(id), `acknowledged ${id}`).toBe(true);
      // Every blob of a committed version is recorded and on disk with exactly its bytes.
      const needed = new Set(
        committed.flatMap((row) => {
          const manifest = typeof row.manifest === "string" ? JSON.parse(row.manifest) : row.manifest;
          return manifest.flatMap((entry: { sha256?: string }) => (entry.sha256 ? [entry.sha256] : []));
        }),
      );
      const recorded = new Set(
        (await selectRows<{ sha256: string }>(db, sql`select sha256 from blobs`)).map((row) => row.sha256),
      );
      for (const digest of needed) {
        expect(recorded.has(digest), `blob row ${digest}`).toBe(true);
        const bytes = await readFile(join(dir, "data", "blobs", digest.slice(0, 2), digest.slice(2, 4), digest));
        expect(sha256(bytes)).toBe(digest);
      }
      return { committed: committed.length, versionCounts };
    });
  } finally {
    await database.close();
  }
}

/** No file outside blobs/tmp is a half blob: each one's bytes hash to its name. */
async function checkBlobFiles(): Promise<number> {
  const root = join(dir, "data", "blobs");
  let files = 0;
  for (const first of await readdir(root).catch(() => [])) {
    if (first === "tmp") continue;
    for (const second of await readdir(join(root, first))) {
      for (const name of await readdir(join(root, first, second))) {
        expect(sha256(await readFile(join(root, first, second, name))), name).toBe(name);
        files++;
      }
    }
  }
  return files;
}

describe("crash: SIGKILL mid-commit", () => {
  it(`keeps every invariant through ${KILLS} kills with ${WORKERS} clients committing`, async () => {
    const acknowledged = new Set<string>();
    let previous: Invariants | null = null;
    const faults: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const server = await start();
      const stats = { inFlight: 0 };
      const before = acknowledged.size;
      const workers = Array.from({ length: WORKERS }, (_, worker) =>
        logUntilGone(server.url, worker, acknowledged, stats),
      );
      // Let commits pile up, then kill while requests are in flight.
      while (acknowledged.size < before + 30) await new Promise((resolve) => setTimeout(resolve, 20));
      const inFlight = stats.inFlight;
      await server.kill();
      await Promise.all(workers);
      const partial = (await readdir(join(dir, "data", "blobs", "tmp")).catch(() => [])).length;
      faults.push(
        `kill ${kill + 1}: ${inFlight} requests in flight, ${partial} cut uploads in tmp/, ${acknowledged.size - before} commits acknowledged`,
      );

      const invariants = await checkInvariants(acknowledged);
      expect(invariants.committed).toBeGreaterThanOrEqual(acknowledged.size);
      if (previous) {
        for (const [name, count] of Object.entries(previous.versionCounts)) {
          expect(invariants.versionCounts[name]).toBeGreaterThanOrEqual(count);
        }
      }
      previous = invariants;
      await checkBlobFiles();
    }

    // Started again, the server serves what survived and numbers the next commit after it.
    const server = await start();
    try {
      const latest = await fetch(`${server.url}/api/v1/projects/crash/versions?ref=ds-a:latest`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      }).then((response) => response.json() as Promise<{ version: string }>);
      const count = previous?.versionCounts["ds-a"] ?? 0;
      expect(latest.version).toBe(`v${count - 1}`);
      const next = await fetch(`${server.url}/api/v1/projects/crash/versions`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "ds-a", type: "dataset", manifest: [{ path: "after", uri: "s3://b/after" }] }),
      }).then((response) => response.json() as Promise<Answer>);
      expect(next.version.version).toBe(`v${count}`);
    } finally {
      await server.stop();
    }
    console.log(`crash: ${faults.join("; ")}; ${acknowledged.size} acknowledged commits all survived`);
  }, 240_000);
});
