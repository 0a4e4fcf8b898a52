import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember, historyOf } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
const keys: Record<"owner" | "member" | "other" | "viewer", string> = { owner: "", member: "", other: "", viewer: "" };
beforeAll(async () => {
  server = await startTestServer();
  for (const name of ["owner", "member", "other", "viewer"] as const) keys[name] = await createMember(server, name);
  // The owner's first write makes the project, with the owner its admin.
  expect((await logAs("owner", "del", "seed", "seed")).status).toBe(201);
  for (const [user, role] of [
    ["member", "member"],
    ["other", "member"],
    ["viewer", "viewer"],
  ] as const) {
    expect((await server.api("PUT", `/projects/del/members/${user}`, { role }, keys.owner)).status).toBe(200);
  }
});
afterAll(() => server.close());

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Logs `name` with one stored file (sent inline) as `user`; the admin key when `user` is null. */
function logAs(user: keyof typeof keys | null, project: string, name: string, content: string, extra = {}) {
  return server.api(
    "POST",
    `/projects/${project}/versions`,
    {
      name,
      type: "dataset",
      manifest: [{ path: "data.txt", sha256: sha256(content), size: content.length }],
      inlineBlobs: { [sha256(content)]: Buffer.from(content).toString("base64") },
      ...extra,
    },
    user ? keys[user] : undefined,
  );
}

async function logged(user: keyof typeof keys | null, project: string, name: string, content: string, extra = {}) {
  const response = await logAs(user, project, name, content, extra);
  expect(response.status).toBe(201);
  return response.body.version as { id: string; version: string };
}

describe("delete: who may", () => {
  it("lets project admins and the member who logged a version delete it, nobody else", async () => {
    const byMember = await logged("member", "del", "perm-a", "a0");
    const cases = [
      { as: "viewer", status: 403 },
      { as: "other", status: 403 },
      { as: "member", status: 200 },
    ] as const;
    for (const { as, status } of cases) {
      const response = await server.api("DELETE", `/projects/del/versions/${byMember.id}`, undefined, keys[as]);
      expect({ as, status: response.status }).toEqual({ as, status });
    }
    const byOther = await logged("other", "del", "perm-b", "b0");
    const byAdmin = await server.api("DELETE", `/projects/del/versions/${byOther.id}`, undefined, keys.owner);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.deleted).toEqual([byOther.id]);
    const stranger = await createMember(server, "stranger");
    const hidden = await server.api("DELETE", `/projects/del/versions/${byOther.id}`, undefined, stranger);
    expect(hidden.status).toBe(404);
  });

  it("deletes all versions of an artifact only for an admin or a member who logged every one", async () => {
    await logged("member", "del", "perm-all", "all0");
    await logged("other", "del", "perm-all", "all1");
    const refused = await server.api("DELETE", "/projects/del/artifacts/perm-all", undefined, keys.member);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain("perm-all:v1");
    const artifact = await server.api("GET", "/projects/del/artifacts/perm-all");
    expect(artifact.body.versions.map((v: { deleted?: true }) => v.deleted ?? false)).toEqual([false, false]);
    const done = await server.api("DELETE", "/projects/del/artifacts/perm-all", undefined, keys.owner);
    expect(done.status).toBe(200);
    expect(done.body.deleted).toHaveLength(2);
    const after = await server.api("GET", "/projects/del/artifacts/perm-all");
    expect(after.body.versions.map((v: { deleted?: true }) => v.deleted)).toEqual([true, true]);
  });

  it("lets the member who started a run delete it, keeping its edges", async () => {
    const run = await server.api("POST", "/projects/del/runs", { jobType: "train" }, keys.member);
    const output = await logged("member", "del", "run-out", "run-out", { runId: run.body.id });
    expect((await server.api("DELETE", `/projects/del/runs/${run.body.id}`, undefined, keys.other)).status).toBe(403);
    const deleted = await server.api("DELETE", `/projects/del/runs/${run.body.id}`, undefined, keys.member);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: true, deletion: { reason: "deleted" } });
    const lineage = await server.api("GET", `/projects/del/lineage?node=${output.id}`);
    const runNode = lineage.body.nodes.find((node: { id: string }) => node.id === run.body.id);
    expect(runNode).toMatchObject({ kind: "run", deleted: true });
    expect(lineage.body.edges).toContainEqual({ source: run.body.id, target: output.id, kind: "output" });
    const use = await server.api("POST", `/projects/del/runs/${run.body.id}/inputs`, { ref: "seed" }, keys.member);
    expect(use.status).toBe(410);
  });
});

describe("delete: tombstones", () => {
  it("keeps a deleted version in the lineage graph, answers 410 to downloads, and moves latest", async () => {
    const run = await server.api("POST", "/projects/del/runs", { jobType: "prep" });
    const v0 = await logged(null, "del", "tomb", "t0", { runId: run.body.id });
    const v1 = await logged(null, "del", "tomb", "t1", { runId: run.body.id, aliases: ["best"] });
    const consumer = await server.api("POST", "/projects/del/runs", { jobType: "train" });
    await server.api("POST", `/projects/del/runs/${consumer.body.id}/inputs`, { ref: "tomb:v1" });

    const deleted = await server.api("DELETE", `/projects/del/versions/${v1.id}`);
    expect(deleted.body).toEqual({ deleted: [v1.id], unlinked: [], aliasesRemoved: ["best"] });

    const details = await server.api("GET", `/projects/del/versions/${v1.id}`);
    expect(details.body).toMatchObject({
      version: "v1",
      deleted: true,
      deletion: { reason: "deleted", by: expect.any(String) },
      aliases: [],
      manifest: [],
      consumerCount: 1,
    });
    const download = await server.api("GET", `/projects/del/versions/${v1.id}/files?path=data.txt`);
    expect(download.status).toBe(410);
    expect(download.body.error).toMatchObject({ code: "GONE" });
    expect(download.body.error.message).toContain("tomb:v1");
    expect(download.body.error.message).toContain("deleted by");
    expect((await server.api("GET", "/projects/del/versions?ref=tomb:best")).status).toBe(404);
    expect((await server.api("POST", `/projects/del/runs/${consumer.body.id}/inputs`, { ref: "tomb:v1" })).status).toBe(
      410,
    );

    const latest = await server.api("GET", "/projects/del/versions?ref=tomb");
    expect(latest.body).toMatchObject({ id: v0.id, aliases: ["latest"] });

    const lineage = await server.api("GET", `/projects/del/lineage?node=${v1.id}`);
    const node = lineage.body.nodes.find((n: { id: string }) => n.id === v1.id);
    expect(node).toMatchObject({ kind: "version", version: "v1", deleted: true, deletion: { reason: "deleted" } });
    expect(lineage.body.edges).toEqual(
      expect.arrayContaining([
        { source: run.body.id, target: v1.id, kind: "output" },
        { source: v1.id, target: consumer.body.id, kind: "input" },
      ]),
    );
    const before = await server.api(
      "GET",
      `/projects/del/lineage?node=${v1.id}&asOf=${encodeURIComponent(details.body.committedAt)}`,
    );
    expect(before.body.nodes.find((n: { id: string }) => n.id === v1.id).deleted).toBeUndefined();

    // The same content logged again is a new version with a new number: v1 is never reused.
    const again = await logged(null, "del", "tomb", "t1");
    expect(again.version).toBe("v2");
    expect((await server.api("GET", "/projects/del/versions?ref=tomb")).body.id).toBe(again.id);
    // Deleting again changes nothing.
    expect((await server.api("DELETE", `/projects/del/versions/${v1.id}`)).body.deleted).toEqual([]);
  });

  it("moves latest back to the newest live version and to none when every version is deleted", async () => {
    const v0 = await logged(null, "del", "last", "l0");
    const v1 = await logged(null, "del", "last", "l1");
    await server.api("DELETE", `/projects/del/versions/${v1.id}`);
    expect((await server.api("GET", "/projects/del/versions?ref=last")).body.id).toBe(v0.id);
    await server.api("DELETE", `/projects/del/versions/${v0.id}`);
    expect((await server.api("GET", "/projects/del/versions?ref=last")).status).toBe(404);
    expect((await logged(null, "del", "last", "l2")).version).toBe("v2");
  });

  it("audits who deleted what and when", async () => {
    const v = await logged("member", "del", "audited", "au0");
    await server.api("DELETE", `/projects/del/versions/${v.id}`, undefined, keys.member);
    const audit = await server.api("GET", "/projects/del/audit");
    expect(audit.status).toBe(200);
    expect(audit.body.events[0]).toMatchObject({
      action: "version_deleted",
      actor: "member",
      target: v.id,
      details: { artifact: "audited", version: "v0" },
      at: expect.any(String),
    });
  });
});

describe("delete: registry links", () => {
  it("refuses to delete a linked version naming the collection, unless a registry admin unlinks it in the call", async () => {
    await server.api("POST", "/registries", { name: "models" });
    const v = await logged("member", "del", "linked", "li0");
    const link = await server.api("POST", "/registries/models/collections/zoo/versions", {
      project: "del",
      ref: "linked",
      aliases: ["production"],
    });
    expect(link.status).toBe(201);
    const outsider = await server.api("DELETE", `/projects/del/versions/${v.id}`, undefined, keys.member);
    expect(outsider.status).toBe(409);
    // A registry the deleter cannot read is not named.
    expect(outsider.body.error.message).not.toContain("models");

    await server.api("PUT", "/registries/models/members/member", { role: "member" });
    const refused = await server.api("DELETE", `/projects/del/versions/${v.id}`, undefined, keys.member);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("models/zoo");
    const notAdmin = await server.api("DELETE", `/projects/del/versions/${v.id}?unlink=true`, undefined, keys.member);
    expect(notAdmin.status).toBe(403);
    expect((await server.api("GET", `/projects/del/versions/${v.id}`)).body.deleted).toBeUndefined();

    await server.api("PUT", "/registries/models/members/member", { role: "admin" });
    const done = await server.api("DELETE", `/projects/del/versions/${v.id}?unlink=true`, undefined, keys.member);
    expect(done.status).toBe(200);
    expect(done.body.unlinked).toEqual([{ registry: "models", collection: "zoo", version: "v0" }]);
    const history = await historyOf(server, "models/collections/zoo");
    expect(history.slice(-2).map((event) => [event.action, event.actor, event.alias ?? null])).toEqual([
      ["alias_removed", "member", "production"],
      ["version_unlinked", "member", null],
    ]);
    expect((await server.api("GET", "/registries/models/collections/zoo/history/verify")).body.ok).toBe(true);
    const relink = await server.api("POST", "/registries/models/collections/zoo/versions", {
      project: "del",
      ref: v.id,
    });
    expect(relink.status).toBe(410);
  });
});
