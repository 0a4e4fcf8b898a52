import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember, eventShape, historyOf } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let memberKey: string;
beforeAll(async () => {
  server = await startTestServer();
  memberKey = await createMember(server, "alice");
});
afterAll(() => server.close());

describe("registry: registries", () => {
  it("lets an admin create a registry and answers it again for the same settings", async () => {
    const body = { name: "model", description: "Models", acceptedTypes: ["model"], protectedAliases: ["production"] };
    const created = await server.api("POST", "/registries", body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "model",
      description: "Models",
      acceptedTypes: ["model"],
      protectedAliases: ["production"],
    });
    const again = await server.api("POST", "/registries", { ...body, protectedAliases: ["production", "production"] });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    const list = await server.api("GET", "/registries");
    expect(list.body.registries.map((registry: { name: string }) => registry.name)).toEqual(["model"]);
  });

  it("refuses to create the same registry with other settings", async () => {
    await server.api("POST", "/registries", { name: "settings" });
    const other = await server.api("POST", "/registries", { name: "settings", acceptedTypes: ["dataset"] });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "CONFLICT", field: "name" });
    expect((await server.api("GET", "/registries/settings")).body.acceptedTypes).toBeNull();
  });

  it("refuses registry creation by a user who is not an admin", async () => {
    const response = await server.api("POST", "/registries", { name: "not-mine" }, memberKey);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("FORBIDDEN");
    expect((await server.api("GET", "/registries/not-mine")).status).toBe(404);
  });

  it("names the field of a bad registry name", async () => {
    const response = await server.api("POST", "/registries", { name: "Has Spaces" });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BAD_REQUEST", field: "name" });
  });
});

describe("registry: collections", () => {
  beforeAll(async () => {
    await server.api("POST", "/registries", { name: "catalog", acceptedTypes: ["model", "dataset"] });
    await server.api("PUT", "/registries/catalog/members/alice", { role: "member" });
  });

  it("creates a collection with its event; the same again answers it, other settings are a 409", async () => {
    const created = await server.api("POST", "/registries/catalog/collections", {
      name: "zoo-classifier",
      type: "model",
      description: "Classifies zoo animals",
      tags: ["vision"],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      registry: "catalog",
      name: "zoo-classifier",
      type: "model",
      description: "Classifies zoo animals",
      tags: ["vision"],
      versionCount: 0,
      linkedCount: 0,
    });
    const twice = await server.api("POST", "/registries/catalog/collections", {
      name: "zoo-classifier",
      type: "model",
    });
    expect(twice.status).toBe(409);
    const events = await historyOf(server, "catalog/collections/zoo-classifier");
    expect(events.map(eventShape)).toEqual([
      { seq: 1, action: "collection_created", actor: "admin", version: null, sourceVersion: null, alias: null },
    ]);
    expect(events[0]?.details).toEqual({ type: "model", description: "Classifies zoo animals", tags: ["vision"] });
  });

  it("refuses a collection of a type the registry does not accept with a 400 on type", async () => {
    const response = await server.api("POST", "/registries/catalog/collections", { name: "code", type: "code" });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BAD_REQUEST", field: "type" });
    expect((await server.api("GET", "/registries/catalog/collections/code")).status).toBe(404);
  });

  it("records tags_changed and description_changed with before and after, and nothing for no change", async () => {
    await server.api("POST", "/registries/catalog/collections", { name: "edited", type: "model", tags: ["a"] });
    const updated = await server.api(
      "PATCH",
      "/registries/catalog/collections/edited",
      { tags: ["a", "b"], description: "now described" },
      memberKey,
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ tags: ["a", "b"], description: "now described" });
    const unchanged = await server.api("PATCH", "/registries/catalog/collections/edited", { tags: ["b", "a"] });
    expect(unchanged.status).toBe(200);
    const events = await historyOf(server, "catalog/collections/edited");
    expect(events.map((event) => [event.action, event.actor, event.details])).toEqual([
      ["collection_created", "admin", { type: "model", description: "", tags: ["a"] }],
      ["tags_changed", "alice", { before: ["a"], after: ["a", "b"] }],
      ["description_changed", "alice", { before: "", after: "now described" }],
    ]);
  });

  it("lists collections filtered by type, tag and name prefix, paged by name", async () => {
    await server.api("POST", "/registries", { name: "listing" });
    for (const [name, type, tags] of [
      ["zoo-a", "model", ["vision"]],
      ["zoo-b", "model", ["audio"]],
      ["zoo-data", "dataset", ["vision"]],
      ["farm", "model", ["vision"]],
    ] as const) {
      await server.api("POST", "/registries/listing/collections", { name, type, tags });
    }
    const names = async (query: string) =>
      (await server.api("GET", `/registries/listing/collections${query}`)).body.collections.map(
        (collection: { name: string }) => collection.name,
      );
    expect(await names("")).toEqual(["farm", "zoo-a", "zoo-b", "zoo-data"]);
    expect(await names("?type=model")).toEqual(["farm", "zoo-a", "zoo-b"]);
    expect(await names("?tag=vision")).toEqual(["farm", "zoo-a", "zoo-data"]);
    expect(await names("?prefix=zoo-&type=model&tag=vision")).toEqual(["zoo-a"]);
    const first = await server.api("GET", "/registries/listing/collections?limit=3");
    expect(first.body.nextCursor).toBe("zoo-b");
    expect(await names(`?limit=3&cursor=${first.body.nextCursor}`)).toEqual(["zoo-data"]);
  });

  it("searches collections by name and pages them by offset with the total", async () => {
    const page = await server.api("GET", "/registries/listing/collections?q=ZOO&limit=2&offset=1");
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(3);
    expect(page.body.collections.map((collection: { name: string }) => collection.name)).toEqual(["zoo-b", "zoo-data"]);
    const found = await server.api("GET", "/search?q=zoo-d&kinds=collection");
    expect(found.body.hits).toEqual([
      { kind: "collection", id: "listing/zoo-data", name: "zoo-data", type: "dataset", scope: "listing" },
    ]);
  });

  it("answers 404 naming an unknown registry or collection", async () => {
    const registry = await server.api("GET", "/registries/nowhere/collections");
    expect(registry.status).toBe(404);
    expect(registry.body.error).toMatchObject({ code: "NOT_FOUND", field: "registry" });
    const collection = await server.api("GET", "/registries/catalog/collections/nothing");
    expect(collection.status).toBe(404);
    expect(collection.body.error).toMatchObject({ code: "NOT_FOUND", field: "collection" });
  });
});
