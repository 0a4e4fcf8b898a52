import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let aliceKey: string;
const id: Record<string, string> = {};

const refs = (path: string, name: string) => ({ path, uri: `s3://bucket/${name}` });

beforeAll(async () => {
  server = await startTestServer();
  const alice = await server.api("POST", "/users", { name: "alice" });
  aliceKey = alice.body.apiKey;

  // A secret project alice has no role in: a run there makes the data.
  const secretRun = await server.api("POST", "/projects/secret/runs", { jobType: "collect" });
  const secretData = await server.api("POST", "/projects/secret/versions", {
    name: "secret-data",
    type: "dataset",
    manifest: [refs("rows", "secret-rows")],
    runId: secretRun.body.id,
  });
  id.secretRun = secretRun.body.id;
  id.secretData = secretData.body.version.id;

  // A shared project alice is a member of: a training run uses the secret data and logs a model.
  const training = await server.api("POST", "/projects/shared/runs", { jobType: "training" });
  expect(
    (
      await server.api("POST", `/projects/shared/runs/${training.body.id}/inputs`, {
        ref: "secret-data",
        project: "secret",
      })
    ).status,
  ).toBe(200);
  const model = await server.api("POST", "/projects/shared/versions", {
    name: "model",
    type: "model",
    manifest: [refs("weights", "weights")],
    runId: training.body.id,
  });
  id.training = training.body.id;
  id.model = model.body.version.id;
  expect((await server.api("PUT", "/projects/shared/members/alice", { role: "member" })).status).toBe(200);
});
afterAll(() => server.close());

const idsOf = (body: { nodes: { id: string }[] }) => body.nodes.map((node) => node.id).sort();

describe("lineage: project access", () => {
  it("shows a server admin the lineage across projects", async () => {
    const { body } = await server.api("GET", "/projects/shared/lineage?node=model&upstream=3");
    expect(idsOf(body)).toEqual([id.model, id.training, id.secretData, id.secretRun].sort());
  });

  it("leaves out the nodes of projects the reader has no role in, and edges through them", async () => {
    const { status, body } = await server.api(
      "GET",
      "/projects/shared/lineage?node=model&upstream=3",
      undefined,
      aliceKey,
    );
    expect(status).toBe(200);
    expect(idsOf(body)).toEqual([id.model, id.training].sort());
    expect(body.edges).toEqual([{ source: id.training, target: id.model, kind: "output" }]);
    expect(JSON.stringify(body)).not.toContain("secret");
  });

  it("answers the reader's impact without the other project's runs", async () => {
    const admin = await server.api("GET", "/projects/secret/impact?node=secret-data");
    expect(admin.body.runCount).toBe(1);
    const alice = await server.api("GET", "/projects/secret/impact?node=secret-data", undefined, aliceKey);
    expect(alice.status).toBe(404);
  });
});
