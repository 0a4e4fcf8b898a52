import { spawn } from "node:child_process";
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, AuthError, Pedigree, type PedigreeOptions, syncSpool } from "@pedigree/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabaseUrl, testDatabaseKind } from "../fixtures/server";
import { freePort, type ServerProcess, startServerProcess } from "../fixtures/server-process";

/** The spool's promises against real server and SDK processes: live spools, dead servers, refused keys. */
const apiKey = "pdg_spool_faults_key";
let dir: string;
let databaseUrl: string | undefined;
let dropDatabase: () => Promise<void>;
let port: number;
let server: ServerProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pedigree-spool-faults-"));
  port = await freePort();
  if (testDatabaseKind() === "postgres") {
    const database = await createTestDatabaseUrl();
    databaseUrl = database.url;
    dropDatabase = database.drop;
  } else {
    databaseUrl = undefined;
    dropDatabase = async () => {};
  }
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  await dropDatabase();
  await rm(dir, { recursive: true, force: true });
});

const baseUrl = () => `http://127.0.0.1:${port}`;
const clientDir = () => join(dir, "client");
const startServer = async () => {
  server = await startServerProcess({ dir: join(dir, "server"), databaseUrl, port, apiKey });
  return server;
};
const stopServer = async () => {
  await server?.stop();
  server = undefined;
};
const client = (options: PedigreeOptions = {}) =>
  new Pedigree({
    baseUrl: baseUrl(),
    apiKey,
    project: "faults",
    pedigreeDir: clientDir(),
    maxBlockMs: 1_500,
    finishTimeoutMs: 20_000,
    ...options,
  });

async function fileArtifact(name: string, type: string, content: string) {
  const file = join(dir, `${name}-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, content);
  const artifact = new Artifact({ name, type });
  await artifact.addFile(file, { name: "data.bin" });
  return artifact;
}

async function lineageOf(pd: Pedigree, runId: string) {
  const run = await pd.run(runId);
  return {
    state: run.state,
    inputs: run.inputs.map((input) => `${input.version.artifact}:${input.version.version}`).sort(),
    outputs: run.outputs.map((output) => `${output.artifact}:${output.version}`).sort(),
  };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The admin's JSON call, for what the SDK does not do (keys). */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl()}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return response.json() as Promise<T>;
}

describe("sdk spool: a run live in another process", () => {
  it("is skipped by sync while its process lives, and synced whole once it is gone", async () => {
    await startServer();
    const script = `
      import { Artifact, Pedigree } from "@pedigree/sdk";
      import { writeFileSync } from "node:fs";
      const pd = new Pedigree({ baseUrl: "${baseUrl()}", apiKey: "${apiKey}", project: "faults", mode: "offline",
        pedigreeDir: ${JSON.stringify(clientDir())} });
      const log = async (name) => {
        const file = ${JSON.stringify(join(dir, "out-"))} + name;
        writeFileSync(file, name);
        const artifact = new Artifact({ name, type: "model" });
        await artifact.addFile(file, { name: "data.bin" });
        await run.logArtifact(artifact);
      };
      const run = await pd.init({ jobType: "training" });
      await log("first");
      console.log("READY " + run.id);
      await new Promise((resolve) => process.stdin.once("data", resolve));
      await log("second");
      console.log("FINISHED " + JSON.stringify(await run.finish()));`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let output = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("READY")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`the script exited early (${code}): ${output}`)));
    });
    const runId = /READY (\w+)/.exec(output)?.[1] as string;

    const whileLive = await syncSpool({ pedigreeDir: clientDir(), apiKey });
    expect(whileLive).toEqual([
      expect.objectContaining({
        runId,
        sent: 0,
        skipped: expect.stringContaining(`in use by process ${child.pid}`),
      }),
    ]);
    expect(await exists(join(clientDir(), "spool", runId, "ops.jsonl"))).toBe(true);

    child.stdin.end("go\n");
    expect(await exited).toBe(0);
    expect(output).toContain('FINISHED {"queued":4,"rejected":0');
    const afterExit = await syncSpool({ pedigreeDir: clientDir(), apiKey });
    expect(afterExit).toEqual([expect.objectContaining({ runId, sent: 4, left: 0, rejected: [] })]);
    expect(await lineageOf(client(), runId)).toEqual({
      state: "finished",
      inputs: [],
      outputs: ["first:v0", "second:v0"],
    });
  });

  it("is sent by one of two syncs at once; a lock whose pid now names another process is stale", async () => {
    await startServer();
    const offline = client({ mode: "offline" });
    const run = await offline.init({ jobType: "training" });
    await run.logArtifact(await fileArtifact("model", "model", "weights"));
    expect(await run.finish()).toMatchObject({ queued: 3 });
    // This process's pid, but not its start time: the process that took this lock is gone, its pid reused.
    const lock = join(clientDir(), "spool", run.id, "lock");
    await writeFile(lock, JSON.stringify({ pid: process.pid, startedAt: "1", host: hostname() }));

    const [first, second] = await Promise.all([
      syncSpool({ pedigreeDir: clientDir(), apiKey }),
      syncSpool({ pedigreeDir: clientDir(), apiKey }),
    ]);
    const reports = [...(first ?? []), ...(second ?? [])];
    expect(reports.reduce((sum, report) => sum + report.sent, 0)).toBe(3);
    expect(reports).toContainEqual(expect.objectContaining({ runId: run.id, sent: 3, left: 0, rejected: [] }));
    expect(reports.filter((report) => report.skipped)).toHaveLength(reports.length - 1);
    expect(await lineageOf(client(), run.id)).toEqual({ state: "finished", inputs: [], outputs: ["model:v0"] });
    expect(await readdir(join(clientDir(), "spool"))).toEqual([]);
  });
});

describe("sdk spool: a dead server", () => {
  it("costs a whole script about maxBlockMs, and `sync` delivers everything once the server is back", async () => {
    await startServer();
    const seeding = client();
    const seed = await seeding.init({ jobType: "seed" });
    await seed.logArtifact(await fileArtifact("raw", "dataset", "rows"));
    await seed.logArtifact(await fileArtifact("raw", "dataset", "more rows"));
    await seed.finish();
    await stopServer();

    const maxBlockMs = 1_500;
    const pd = client({ maxBlockMs });
    const started = Date.now();
    const run = await pd.init({ jobType: "training" });
    await expect(run.useArtifact("raw:v0")).rejects.toMatchObject({
      code: "NETWORK",
      message: expect.stringContaining(`${baseUrl()} is unreachable`),
    });
    await expect(run.useArtifact("raw:v1")).rejects.toMatchObject({ code: "NETWORK" });
    expect((await run.logArtifact(await fileArtifact("model", "model", "weights"))).queued).toBe(true);
    expect((await run.logArtifact(await fileArtifact("report", "report", "accuracy"))).queued).toBe(true);
    const finished = await run.finish();
    const elapsed = Date.now() - started;
    expect(finished).toMatchObject({ queued: 6, rejected: 0 });
    expect(elapsed).toBeLessThan(2 * maxBlockMs);

    await startServer();
    expect(await syncSpool({ pedigreeDir: clientDir(), apiKey })).toEqual([
      expect.objectContaining({ runId: run.id, sent: 6, left: 0, rejected: [] }),
    ]);
    expect(await lineageOf(pd, run.id)).toEqual({
      state: "finished",
      inputs: ["raw:v0", "raw:v1"],
      outputs: ["model:v0", "report:v0"],
    });
  });
});

describe("sdk: a key the server refuses", () => {
  it("fails init at once with an AuthError naming the server and where the key came from", async () => {
    await startServer();
    const started = Date.now();
    const wrong = client({ apiKey: "pdg_not_a_key" });
    await expect(wrong.init({ jobType: "training" })).rejects.toBeInstanceOf(AuthError);
    await expect(wrong.init({ jobType: "training" })).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(new RegExp(`^${baseUrl()} refused the API key from the apiKey option \\(401\\)`)),
    });

    await mkdir(clientDir(), { recursive: true });
    const credentials = join(clientDir(), "credentials");
    await writeFile(credentials, JSON.stringify({ servers: { [baseUrl()]: { apiKey: "pdg_stale_saved_key" } } }));
    const saved = new Pedigree({ baseUrl: baseUrl(), project: "faults", pedigreeDir: clientDir() });
    await expect(saved.init({ jobType: "training" })).rejects.toMatchObject({
      name: "AuthError",
      message: expect.stringContaining(`from the credentials file ${credentials}`),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    // A run that never started leaves no spool behind.
    expect(await readdir(join(clientDir(), "spool"))).toEqual([]);
  });

  it("fails every call of a run at once when its key is revoked, and keeps its writes for `sync`", async () => {
    await startServer();
    const seed = await client().init({ jobType: "seed" });
    await seed.logArtifact(await fileArtifact("raw", "dataset", "rows"));
    await seed.finish();
    const created = await api<{ key: { id: string }; apiKey: string }>("POST", "/keys", { name: "script" });
    const previous = process.env.PEDIGREE_API_KEY;
    process.env.PEDIGREE_API_KEY = created.apiKey;
    const pd = new Pedigree({ baseUrl: baseUrl(), project: "faults", pedigreeDir: clientDir(), maxBlockMs: 10_000 });
    if (previous === undefined) delete process.env.PEDIGREE_API_KEY;
    else process.env.PEDIGREE_API_KEY = previous;
    const run = await pd.init({ jobType: "training" });
    await api("DELETE", `/keys/${created.key.id}`);

    const started = Date.now();
    const refused = {
      name: "AuthError",
      status: 401,
      message: expect.stringContaining(`${baseUrl()} refused the API key from PEDIGREE_API_KEY`),
    };
    await expect(run.logArtifact(await fileArtifact("model", "model", "weights"))).rejects.toMatchObject(refused);
    await expect(run.useArtifact("raw:v0")).rejects.toMatchObject(refused);
    await expect(run.finish()).rejects.toMatchObject(refused);
    expect(Date.now() - started).toBeLessThan(5_000);

    expect(await syncSpool({ pedigreeDir: clientDir(), apiKey })).toEqual([
      expect.objectContaining({ runId: run.id, sent: 3, left: 0, rejected: [] }),
    ]);
    expect(await lineageOf(client(), run.id)).toEqual({ state: "finished", inputs: ["raw:v0"], outputs: ["model:v0"] });
  });
});
