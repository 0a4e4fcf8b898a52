import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CollectionVersion } from "../../packages/protocol/src";
import { createMember, eventShape, historyOf, logVersion } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let memberKey: string;
beforeAll(async () => {
  server = await startTestServer();
  memberKey = await createMember(server, "bob");
  await server.api("POST", "/registries", { name: "model", protectedAliases: ["production"] });
  await server.api("PUT", "/registries/model/members/bob", { role: "member" });
});
afterAll(() => server.close());

/** A collection `name` holding `count` versions of artifact `name` in project `name`, linked as v0…. */
async function collectionWith(name: string, count: number) {
  for (let index = 0; index < count; index++) {
    await logVersion(server, name, { name, type: "model", content: `${name}-${index}` });
    await server.api("POST", `/registries/model/collections/${name}/versions`, {
      project: name,
      ref: `${name}:v${index}`,
    });
  }
}

const aliasesOf = async (collection: string) =>
  Object.fromEntries(
    (await server.api("GET", `/registries/model/collections/${collection}/versions`)).body.versions.map(
      (v: CollectionVersion) => [v.version, v.aliases],
    ),
  );

describe("registry: collection aliases", () => {
  it("moves an alias from one version to another as a removal and an addition", async () => {
    await collectionWith("promote", 2);
    const staged = await server.api("PUT", "/registries/model/collections/promote/aliases/staging", { version: "v0" });
    expect(staged.status).toBe(200);
    expect(staged.body).toMatchObject({ version: "v0", aliases: ["staging"] });
    const moved = await server.api("PUT", "/registries/model/collections/promote/aliases/staging", { version: "v1" });
    expect(moved.body).toMatchObject({ version: "v1", aliases: ["latest", "staging"] });
    expect(await aliasesOf("promote")).toEqual({ v0: [], v1: ["latest", "staging"] });
    const events = (await historyOf(server, "model/collections/promote")).map(eventShape).slice(-3);
    expect(events).toEqual([
      { seq: 4, action: "alias_added", actor: "admin", version: "v0", sourceVersion: "promote:v0", alias: "staging" },
      { seq: 5, action: "alias_removed", actor: "admin", version: "v0", sourceVersion: "promote:v0", alias: "staging" },
      { seq: 6, action: "alias_added", actor: "admin", version: "v1", sourceVersion: "promote:v1", alias: "staging" },
    ]);
  });

  it("answers 409 when the alias is taken and move is false, and changes nothing", async () => {
    const refused = await server.api("PUT", "/registries/model/collections/promote/aliases/staging", {
      version: "v0",
      move: false,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "CONFLICT", field: "alias" });
    expect(await aliasesOf("promote")).toEqual({ v0: [], v1: ["latest", "staging"] });
  });

  it("treats setting an alias on the version that holds it as no change", async () => {
    const before = (await historyOf(server, "model/collections/promote")).length;
    const again = await server.api("PUT", "/registries/model/collections/promote/aliases/staging", { version: "v1" });
    expect(again.status).toBe(200);
    expect((await historyOf(server, "model/collections/promote")).length).toBe(before);
  });

  it("removes an alias, and answers 404 for an alias nothing holds", async () => {
    await collectionWith("remove", 1);
    await server.api("PUT", "/registries/model/collections/remove/aliases/best", { version: "v0" });
    const removed = await server.api("DELETE", "/registries/model/collections/remove/aliases/best");
    expect(removed.status).toBe(204);
    expect(await aliasesOf("remove")).toEqual({ v0: ["latest"] });
    const again = await server.api("DELETE", "/registries/model/collections/remove/aliases/best");
    expect(again.status).toBe(404);
    expect((await historyOf(server, "model/collections/remove")).map((event) => event.action).slice(-2)).toEqual([
      "alias_added",
      "alias_removed",
    ]);
  });

  it("sets exactly the given aliases on a version, moving the ones others hold", async () => {
    await collectionWith("exact", 2);
    await server.api("PUT", "/registries/model/collections/exact/aliases/old", { version: "v0" });
    await server.api("PUT", "/registries/model/collections/exact/aliases/candidate", { version: "v1" });
    const set = await server.api("PUT", "/registries/model/collections/exact/versions/v0/aliases", {
      aliases: ["candidate", "reviewed"],
    });
    expect(set.status).toBe(200);
    expect(await aliasesOf("exact")).toEqual({ v0: ["candidate", "reviewed"], v1: ["latest"] });
  });

  it("refuses to assign latest or vN", async () => {
    const latest = await server.api("PUT", "/registries/model/collections/exact/aliases/latest", { version: "v0" });
    expect(latest.status).toBe(400);
    const vN = await server.api("PUT", "/registries/model/collections/exact/aliases/v3", { version: "v0" });
    expect(vN.status).toBe(400);
    expect(vN.body.error.field).toBe("alias");
  });
});

describe("registry: protected aliases", () => {
  it("refuses a registry member who is not its admin with a 403 and changes nothing", async () => {
    await collectionWith("guarded", 2);
    await server.api("PUT", "/projects/guarded/members/bob", { role: "viewer" });
    await server.api("PUT", "/registries/model/collections/guarded/aliases/production", { version: "v0" });
    const before = await historyOf(server, "model/collections/guarded");
    const attempts = [
      await server.api("PUT", "/registries/model/collections/guarded/aliases/production", { version: "v1" }, memberKey),
      await server.api("DELETE", "/registries/model/collections/guarded/aliases/production", undefined, memberKey),
      await server.api(
        "PUT",
        "/registries/model/collections/guarded/versions/v1/aliases",
        { aliases: ["production"] },
        memberKey,
      ),
      await server.api("DELETE", "/registries/model/collections/guarded/versions/v0", undefined, memberKey),
      await server.api(
        "POST",
        "/registries/model/collections/guarded/versions",
        { project: "guarded", ref: "guarded:v1", aliases: ["production"] },
        memberKey,
      ),
    ];
    expect(attempts.map((attempt) => [attempt.status, attempt.body.error.code])).toEqual(
      Array(5).fill([403, "FORBIDDEN"]),
    );
    expect(await aliasesOf("guarded")).toEqual({ v0: ["production"], v1: ["latest"] });
    expect(await historyOf(server, "model/collections/guarded")).toEqual(before);
  });

  it("lets the same user move aliases that are not protected", async () => {
    const staged = await server.api(
      "PUT",
      "/registries/model/collections/guarded/aliases/staging",
      { version: "v1" },
      memberKey,
    );
    expect(staged.status).toBe(200);
    const [event] = (await historyOf(server, "model/collections/guarded")).slice(-1);
    expect(eventShape(event!)).toMatchObject({ action: "alias_added", actor: "bob", alias: "staging" });
  });
});

describe("registry: concurrent alias moves", () => {
  it("leaves exactly one holder and a gapless, verifiable chain whose replay gives the final state", async () => {
    await collectionWith("race", 4);
    const targets = Array.from({ length: 20 }, (_, index) => `v${index % 4}`);
    const responses = await Promise.all(
      targets.map((version) =>
        server.api("PUT", "/registries/model/collections/race/aliases/champion", { version, move: true }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));

    const holders = Object.entries(await aliasesOf("race")).filter(([, aliases]) =>
      (aliases as string[]).includes("champion"),
    );
    expect(holders).toHaveLength(1);

    const events = await historyOf(server, "model/collections/race");
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const replayed = new Map<string, string>();
    for (const event of events) {
      if (event.alias !== "champion") continue;
      if (event.action === "alias_added") {
        expect(replayed.has("champion")).toBe(false);
        replayed.set("champion", event.version ?? "");
      }
      if (event.action === "alias_removed") {
        expect(replayed.get("champion")).toBe(event.version);
        replayed.delete("champion");
      }
    }
    expect(replayed.get("champion")).toBe(holders[0]?.[0]);

    const verification = await server.api("GET", "/registries/model/collections/race/history/verify");
    expect(verification.body).toMatchObject({ ok: true, eventCount: events.length, firstBroken: null });
    expect(verification.body.headHash).toBe(events.at(-1)?.hash);
  });
});
