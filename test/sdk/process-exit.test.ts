import { spawn } from "node:child_process";
import { Pedigree, syncSpool } from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** A training script in its own process that starts a run and then ends as `ending` says. */
async function script(ending: string): Promise<{ runId: string; code: number | null }> {
  const source = `
    import { Pedigree, syncSpool } from "@pedigree/sdk";
    const pd = new Pedigree({ baseUrl: ${JSON.stringify(server.url)}, apiKey: ${JSON.stringify(server.apiKey)}, project: "exits", pedigreeDir: ${JSON.stringify(server.dir)} });
    const run = await pd.init({ jobType: "training" });
    console.log("RUN " + run.id);
    ${ending}`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { runId: /RUN (\w+)/.exec(output)?.[1] ?? "", code };
}

describe("sdk: runs end with their process", () => {
  const pd = () =>
    new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "exits", pedigreeDir: server.dir });

  it("finishes a run the script forgot to finish when the process runs out of work", async () => {
    const { runId, code } = await script("/* no finish */");
    expect(code).toBe(0);
    expect((await pd().run(runId)).state).toBe("finished");
  });

  it("marks the run failed when the script dies of an uncaught error", async () => {
    const { runId, code } = await script(`throw new Error("diverged");`);
    expect(code).not.toBe(0);
    expect((await pd().run(runId)).state).toBe("failed");
  });

  it("marks the run failed when the script exits with an error code", async () => {
    const { runId, code } = await script("process.exit(3);");
    expect(code).toBe(3);
    expect((await pd().run(runId)).state).toBe("failed");
  });

  it("keeps the final state queued behind writes still in the spool at exit, so `sync` delivers both in order", async () => {
    const logged = await server.api("POST", "/projects/exits/versions", {
      name: "raw",
      type: "dataset",
      manifest: [{ path: "data.bin", uri: "s3://bucket/exits-raw" }],
    });
    expect(logged.status).toBe(201);
    const { runId, code } = await script(`run.useArtifact("raw:v0").catch(() => {}); process.exit(0);`);
    expect(code).toBe(0);
    // A finished run would refuse the queued input: the exit hook did not send the end ahead of it.
    expect((await pd().run(runId)).state).toBe("running");
    const synced = await syncSpool({ pedigreeDir: server.dir, apiKey: server.apiKey });
    expect(synced.find((entry) => entry.runId === runId)).toMatchObject({ sent: 2, left: 0, rejected: [] });
    const run = await pd().run(runId);
    expect(run.state).toBe("finished");
    expect(run.inputs.map((input) => input.requestedRef)).toEqual(["raw:v0"]);
  });
});
