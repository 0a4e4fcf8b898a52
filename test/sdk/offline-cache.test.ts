import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Artifact, Pedigree, syncSpool } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabaseUrl, testDatabaseKind } from "../fixtures/server";
import { freePort, type ServerProcess, startServerProcess } from "../fixtures/server-process";

const apiKey = "pdg_offline_cache_tests_key";
let dir: string;
let port: number;
let databaseUrl: string | undefined;
let server: ServerProcess | undefined;
let dropDatabase = async () => {};
/** The machine that loses its server: the scripts' PEDIGREE_DIR (spool and cache). */
let machine: string;
let baseUrl: string;
const contents = { "train.csv": randomBytes(90_000), "labels.txt": Buffer.from("cat\ndog\n") };

const start = async () => {
  server = await startServerProcess({ dir: join(dir, "server"), databaseUrl, apiKey, port });
};

/** The user's script in a process of its own (test/fixtures/offline-use-process.ts). */
async function script(job: { ref: string; download?: string; refProject?: string; key?: string; project?: string }) {
  const { key, project, ...rest } = job;
  const args = JSON.stringify({
    baseUrl,
    apiKey: key ?? apiKey,
    pedigreeDir: machine,
    project: project ?? "offline",
    ...rest,
  });
  const outcome = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "test/fixtures/offline-use-process.ts", args],
    { timeout: 30_000 },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  return {
    code: outcome.code,
    stderr: outcome.stderr,
    ...JSON.parse(outcome.stdout.trim().split("\n").at(-1) ?? "{}"),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pedigree-offline-"));
  machine = join(dir, "machine");
  if (testDatabaseKind() === "postgres") {
    const database = await createTestDatabaseUrl();
    databaseUrl = database.url;
    dropDatabase = database.drop;
  }
  port = await freePort();
  await start();
  baseUrl = (server as ServerProcess).url;
  const pd = new Pedigree({ baseUrl, apiKey, project: "offline", pedigreeDir: join(dir, "logger") });
  const run = await pd.init({ jobType: "prepare" });
  for (const name of ["dataset", "uncached"]) {
    const files = join(dir, `${name}-files`);
    await mkdir(files, { recursive: true });
    // Other bytes per artifact: the cache is content-addressed, so equal files would be cached for both.
    for (const [file, bytes] of Object.entries(contents))
      await writeFile(join(files, file), Buffer.concat([bytes, Buffer.from(name)]));
    const artifact = new Artifact({ name, type: "dataset", metadata: { rows: 2 } });
    await artifact.addDir(files);
    await run.logArtifact(artifact, { aliases: ["prod"] });
  }
  await run.finish();
});
afterAll(async () => {
  await server?.stop();
  await dropDatabase();
  await rm(dir, { recursive: true, force: true });
});

describe("sdk: useArtifact offline, from the cache", () => {
  it("answers a ref resolved before on this machine from the cache once the server is dead, and records the use later", async () => {
    // Online: the script resolves dataset:prod and downloads it (into the cache); uncached:prod is only resolved.
    const online = await script({ ref: "dataset:prod", download: join(dir, "online") });
    expect(online).toMatchObject({ code: 0, ref: "dataset:v0", offline: false, queued: 0 });
    expect((await script({ ref: "uncached:prod" })).code).toBe(0);

    await server?.kill();
    const offline = await script({ ref: "dataset:prod", download: join(dir, "offline") });
    expect(offline).toMatchObject({ code: 0, ref: "dataset:v0", id: online.id, offline: true, metadata: { rows: 2 } });
    expect(Date.parse(offline.resolvedAt)).toBeLessThanOrEqual(Date.now());
    expect(offline.stderr).toContain("from the cache; the use is queued");
    for (const [file, bytes] of Object.entries(contents)) {
      expect((await readFile(join(dir, "offline", file))).equals(Buffer.concat([bytes, Buffer.from("dataset")]))).toBe(
        true,
      );
    }
    // The run's start, its use of dataset:prod and its end wait in the spool.
    expect(offline.queued).toBe(3);

    await start();
    const sent = await syncSpool({ pedigreeDir: machine, apiKey });
    expect(sent.find((report) => report.runId === offline.runId)).toMatchObject({ sent: 3, left: 0 });
    const pd = new Pedigree({ baseUrl, apiKey, project: "offline", pedigreeDir: join(dir, "logger") });
    const recorded = await pd.run(offline.runId);
    expect(recorded.state).toBe("finished");
    expect(recorded.inputs.map((input) => [input.version.id, input.requestedRef])).toEqual([
      [online.id, "dataset:prod"],
    ]);
  });

  it("fails clearly when the ref's files are not cached, or the ref was never resolved here", async () => {
    await server?.kill();
    try {
      const uncached = await script({ ref: "uncached:prod" });
      expect(uncached.code).toBe(1);
      expect(uncached.error.name).toBe("PedigreeError");
      expect(uncached.error.message).toMatch(
        /is unreachable.*cannot be fetched now; not answered from the cache: 'uncached:prod' was resolved to uncached:v0 at .*, but 2 of its 2 file\(s\) are not in the cache/,
      );
      const never = await script({ ref: "dataset:v0" });
      expect(never.code).toBe(1);
      expect(never.error.message).toContain("'dataset:v0' was never resolved on this machine");
    } finally {
      await start();
    }
  });

  it("never answers from the cache a use the server refused", async () => {
    const created = await fetch(`${baseUrl}/api/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "outsider" }),
    });
    const outsider = ((await created.json()) as { apiKey: string }).apiKey;
    // dataset:prod of project offline is resolved and cached on this machine, but this key may not read it: the
    // server answers 404 (it does not tell unreadable from missing), and that answer is the script's.
    const refused = await script({ ref: "dataset:prod", refProject: "offline", key: outsider, project: "elsewhere" });
    expect(refused.code).toBe(1);
    expect(refused.error.name).toBe("NotFoundError");
    expect(refused.error.message).not.toContain("cache");
  });

  it("answers from the cache in offline mode too, without asking the server", async () => {
    const pd = new Pedigree({ baseUrl, apiKey, project: "offline", pedigreeDir: machine, mode: "offline" });
    const run = await pd.init({ jobType: "offline-mode" });
    const version = await run.useArtifact("dataset:prod");
    expect(version).toMatchObject({ ref: "dataset:v0", offline: true });
    const out = await version.download(join(dir, "offline-mode"));
    expect((await readFile(join(out, "labels.txt"), "utf8")).startsWith("cat\ndog\n")).toBe(true);
    await expect(run.useArtifact("dataset:prod", { type: "model" })).rejects.toThrow(
      "'dataset:prod' was last resolved to dataset:v0 of type 'dataset', not 'model'",
    );
    expect(await run.finish()).toMatchObject({ queued: 4 });
  });
});
