import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Pedigree } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runZooScenario, type ZooLineage } from "../../examples/zoo/scenario";
import { startTestServer, type TestServer } from "../fixtures/server";

const run = promisify(execFile);
let server: TestServer;
let zoo: ZooLineage;

beforeAll(async () => {
  server = await startTestServer();
  const pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
  zoo = await runZooScenario(pd, "zoo");
});
afterAll(() => server.close());

/** The real `pedigree` command in its own process, configured like a user's shell. */
async function pedigree(...args: string[]) {
  const env = {
    ...process.env,
    PEDIGREE_BASE_URL: server.url,
    PEDIGREE_API_KEY: server.apiKey,
    PEDIGREE_DIR: server.dir,
  };
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", ...args], { env });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("cli", () => {
  it("prints a version's lineage as edges, the base starred", async () => {
    const { code, stdout } = await pedigree(
      "lineage",
      zoo.model.ref,
      "--project",
      "zoo",
      "--upstream",
      "1",
      "--downstream",
      "1",
    );
    expect(code).toBe(0);
    expect(stdout).toContain(`--output--> ${zoo.model.ref} [model] *`);
    expect(stdout).toContain(`${zoo.model.ref} [model] * --input-->`);
  });

  it("lists runs a page at a time, filtered by job type and name", async () => {
    const page = await pedigree(
      "runs",
      "--project",
      "zoo",
      "--job-type",
      "split_zoo_data",
      "--limit",
      "2",
      "--offset",
      "1",
    );
    expect(page.code).toBe(0);
    const ids = page.stdout.split("\n").map((line) => line.split(" ")[0] ?? "");
    expect(ids.filter((id) => zoo.splitRuns.includes(id))).toEqual([zoo.splitRuns[1], zoo.splitRuns[0]]);
    expect(page.stdout).toContain("runs 2–3 of 3");
    const training = (await pedigree("run", zoo.trainingRun, "--project", "zoo", "--json")).stdout;
    const { name } = JSON.parse(training) as { name: string };
    const found = await pedigree("runs", "--project", "zoo", "--search", name.toUpperCase(), "--json");
    expect((JSON.parse(found.stdout) as { id: string }[]).map((run) => run.id)).toEqual([zoo.trainingRun]);
  });

  it("answers JSON the SDK types describe", async () => {
    const { stdout } = await pedigree("artifact", "split_zoo_dataset:v0", "--project", "zoo", "--json");
    const details = JSON.parse(stdout);
    expect(details).toMatchObject({ artifact: "split_zoo_dataset", version: "v0", producerCount: 3 });
  });

  it("shows the collection's history with its verification", async () => {
    const { code, stdout } = await pedigree("history", "model/zoo-classifier");
    expect(code).toBe(0);
    expect(stdout).toMatch(/alias_added\s+v0\s+production/);
    expect(stdout).toContain("chain verified (5 events)");
    expect(stdout).toContain("state matches the events");
    const kept = /keep (\d+:[a-f0-9]{64})/.exec(stdout)?.[1];
    expect(kept).toMatch(/^5:/);
    const again = await pedigree("history", "model/zoo-classifier", "--since", kept ?? "");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("checkpoint 5 is in the chain");
    const forged = await pedigree("history", "model/zoo-classifier", "--since", `5:${"0".repeat(64)}`);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("checkpoint 5 NOT in the chain");
  });

  it("lists the registries the key can read with their visibility, and downloads through a registry ref", async () => {
    const { code, stdout } = await pedigree("registries");
    expect(code).toBe(0);
    expect(stdout).toMatch(/model\s+restricted/);
    const dir = await mkdtemp(join(tmpdir(), "pedigree-cli-registry-"));
    const downloaded = await pedigree("download", "model/zoo-classifier:production", dir, "--json");
    expect(downloaded.code, downloaded.stderr).toBe(0);
    expect(JSON.parse(downloaded.stdout)).toMatchObject({ ref: zoo.model.ref, dir });
  });

  it("fails with the server's message and a non-zero code", async () => {
    const { code, stderr } = await pedigree("artifact", "nothing:v9", "--project", "zoo");
    expect(code).toBe(1);
    expect(stderr).toContain("nothing");
  });
});

describe("cli: sync", () => {
  it("skips the spool of a run live in this process and says so, then sends it once the run is done", async () => {
    const pd = new Pedigree({
      baseUrl: server.url,
      apiKey: server.apiKey,
      project: "zoo",
      pedigreeDir: server.dir,
      mode: "offline",
    });
    const live = await pd.init({ jobType: "offline" });
    const skipped = await pedigree("sync");
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain(`skipped run ${live.id}: the spool`);
    expect(skipped.stdout).toContain(`in use by process ${process.pid}`);

    expect(await live.finish()).toMatchObject({ queued: 2 });
    const sent = await pedigree("sync", "--json");
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toEqual([expect.objectContaining({ runId: live.id, sent: 2, left: 0 })]);
    expect((await pd.run(live.id)).state).toBe("finished");
  });
});
