import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * What a reader learns of projects it has no role in, through answers that are not lineage: a version's
 * consumers, a refused run id, user names. `shared` holds a dataset alice reads; `secret`, where alice has no
 * role, has a run that used it. (Producers are runs of the version's own project: registry-access.test.ts
 * checks that a registry reader without a role there does not see them.)
 */
let server: TestServer;
let aliceKey: string;
const id: Record<string, string> = {};
const manifest = [{ path: "rows", uri: "s3://bucket/rows" }];

beforeAll(async () => {
  server = await startTestServer();
  aliceKey = (await server.api("POST", "/users", { name: "alice" })).body.apiKey;
  const producer = await server.api("POST", "/projects/shared/runs", { jobType: "collect" });
  id.sharedRun = producer.body.id;
  const data = await server.api("POST", "/projects/shared/versions", {
    name: "rows",
    type: "dataset",
    manifest,
    runId: producer.body.id,
  });
  id.data = data.body.version.id;
  await server.api("PUT", "/projects/shared/members/alice", { role: "viewer" });

  const consumer = await server.api("POST", "/projects/secret/runs", { jobType: "secret-training", name: "hush" });
  id.secretRun = consumer.body.id;
  const used = await server.api("POST", `/projects/secret/runs/${consumer.body.id}/inputs`, {
    ref: "rows",
    project: "shared",
  });
  expect(used.status).toBe(200);
  const aliceRun = await server.api("POST", "/projects/shared/runs", { jobType: "eval" });
  await server.api("POST", `/projects/shared/runs/${aliceRun.body.id}/inputs`, { ref: "rows" });
  id.aliceRun = aliceRun.body.id;
});
afterAll(() => server.close());

describe("visibility: version details follow the lineage rule", () => {
  it("leaves runs of projects the reader cannot see out of consumers and their count", async () => {
    const { status, body } = await server.api("GET", `/projects/shared/versions/${id.data}`, undefined, aliceKey);
    expect(status).toBe(200);
    expect(body.consumers.map((run: { id: string }) => run.id)).toEqual([id.aliceRun]);
    expect(body.consumerCount).toBe(1);
    expect(JSON.stringify(body)).not.toContain(id.secretRun);
    expect(JSON.stringify(body)).not.toContain("hush");
    expect(JSON.stringify(body)).not.toContain("secret");
  });

  it("answers the same consumers as the lineage graph shows", async () => {
    const graph = await server.api(
      "GET",
      `/projects/shared/lineage?node=${id.data}&upstream=0&downstream=1`,
      undefined,
      aliceKey,
    );
    const runs = graph.body.nodes
      .filter((node: { kind: string }) => node.kind === "run")
      .map((n: { id: string }) => n.id);
    const details = await server.api("GET", `/projects/shared/versions?ref=rows`, undefined, aliceKey);
    expect(details.body.consumers.map((run: { id: string }) => run.id).sort()).toEqual(runs.sort());
  });

  it("shows a server admin every run", async () => {
    const { body } = await server.api("GET", `/projects/shared/versions/${id.data}`);
    expect(body.consumers.map((run: { id: string }) => run.id).sort()).toEqual([id.aliceRun, id.secretRun].sort());
    expect(body.consumerCount).toBe(2);
  });
});

describe("visibility: a refused run id says nothing of the run holding it", () => {
  it("answers an id held in another project with words that name neither that run nor its project", async () => {
    const mine = await server.api("POST", "/projects/alice-own/runs", { jobType: "eval" }, aliceKey);
    expect(mine.status).toBe(201);
    const refused = await server.api(
      "POST",
      "/projects/alice-own/runs",
      { id: id.secretRun, jobType: "eval" },
      aliceKey,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.field).toBe("id");
    expect(refused.body.error.message).not.toMatch(/taken|exists|secret|another project/);
    // The id reads as unknown in the caller's project, exactly as an id nobody holds.
    const held = await server.api("GET", `/projects/alice-own/runs/${id.secretRun}`, undefined, aliceKey);
    const free = await server.api("GET", "/projects/alice-own/runs/zzzzzzzz", undefined, aliceKey);
    expect(held.status).toBe(404);
    expect(JSON.stringify(held.body).replaceAll(id.secretRun as string, "zzzzzzzz")).toBe(JSON.stringify(free.body));
  });

  it("still answers the same run to a retry in its own project", async () => {
    const first = await server.api("POST", "/projects/alice-own/runs", { id: "retryrun", jobType: "eval" }, aliceKey);
    const again = await server.api("POST", "/projects/alice-own/runs", { id: "retryrun", jobType: "eval" }, aliceKey);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe("retryrun");
  });
});

describe("visibility: user names are unique whatever their case and never look like ids", () => {
  it("refuses 'Admin' when 'admin' exists, naming the field", async () => {
    const refused = await server.api("POST", "/users", { name: "Admin" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.field).toBe("name");
    const alice = await server.api("POST", "/users", { name: "ALICE" });
    expect(alice.status).toBe(409);
  });

  it("refuses a name shaped like a user id, naming the field", async () => {
    const me = await server.api("GET", "/me", undefined, aliceKey);
    for (const name of [me.body.user.id, "u_abcdefghijkl", "U_x"]) {
      const refused = await server.api("POST", "/users", { name });
      expect(refused.status, name).toBe(400);
      expect(refused.body.error.field).toBe("name");
    }
  });

  it("finds users by name whatever the case", async () => {
    const set = await server.api("PUT", "/projects/shared/members/ALICE", { role: "member" });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.user).toBe("alice");
    const members = await server.api("GET", "/projects/shared/members");
    const alice = members.body.members.filter((member: { user: string }) => member.user.toLowerCase() === "alice");
    expect(alice).toEqual([expect.objectContaining({ user: "alice", role: "member" })]);
  });
});
