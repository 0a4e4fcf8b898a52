import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CollectionVersion, RegistryMembership } from "../../packages/protocol/src";
import { resolveRef } from "../../packages/server/src/artifacts/refs";
import { eventShape, historyOf, logVersion } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await server.api("POST", "/registries", { name: "model", acceptedTypes: ["model"] });
});
afterAll(() => server.close());

const link = (collection: string, body: Record<string, unknown>) =>
  server.api("POST", `/registries/model/collections/${collection}/versions`, body);

describe("registry: link", () => {
  it("creates the collection on first link, numbers links v0, v1 and keeps a managed latest", async () => {
    const first = await logVersion(server, "zoo", { name: "zoo-model", type: "model", content: "weights-1" });
    const second = await logVersion(server, "zoo", { name: "zoo-model", type: "model", content: "weights-2" });
    const linkedFirst = await link("zoo-classifier", { project: "zoo", ref: "zoo-model:v0", aliases: ["staging"] });
    expect(linkedFirst.status).toBe(201);
    expect(linkedFirst.body).toMatchObject({
      linked: true,
      membership: { registry: "model", collection: "zoo-classifier", version: "v0", aliases: ["latest", "staging"] },
    });
    expect(linkedFirst.body.membership.source).toMatchObject({ id: first.id, artifact: "zoo-model", version: "v0" });
    const linkedSecond = await link("zoo-classifier", { project: "zoo", ref: second.id });
    expect(linkedSecond.body.membership).toMatchObject({ version: "v1", aliases: ["latest"] });

    const collection = await server.api("GET", "/registries/model/collections/zoo-classifier");
    expect(collection.body).toMatchObject({ type: "model", versionCount: 2, linkedCount: 2 });
    const versions = await server.api("GET", "/registries/model/collections/zoo-classifier/versions");
    expect(versions.body.versions.map((v: CollectionVersion) => [v.version, v.aliases, v.source.id])).toEqual([
      ["v1", ["latest"], second.id],
      ["v0", ["staging"], first.id],
    ]);
    expect((await historyOf(server, "model/collections/zoo-classifier")).map(eventShape)).toEqual([
      { seq: 1, action: "collection_created", actor: "admin", version: null, sourceVersion: null, alias: null },
      { seq: 2, action: "version_linked", actor: "admin", version: "v0", sourceVersion: "zoo-model:v0", alias: null },
      { seq: 3, action: "alias_added", actor: "admin", version: "v0", sourceVersion: "zoo-model:v0", alias: "staging" },
      { seq: 4, action: "version_linked", actor: "admin", version: "v1", sourceVersion: "zoo-model:v1", alias: null },
    ]);
  });

  it("treats linking a linked version again as a no-op answering the existing membership", async () => {
    await logVersion(server, "twice", { name: "m", type: "model", content: "twice" });
    const first = await link("twice", { project: "twice", ref: "m" });
    const again = await link("twice", { project: "twice", ref: "m:v0" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, linked: false });
    expect((await historyOf(server, "model/collections/twice")).map((event) => event.action)).toEqual([
      "collection_created",
      "version_linked",
    ]);
  });

  it("refuses a type the registry does not accept with a 400, creating nothing", async () => {
    await logVersion(server, "types", { name: "zoo-data", type: "dataset", content: "rows" });
    const response = await link("zoo-data", { project: "types", ref: "zoo-data" });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BAD_REQUEST", field: "ref" });
    expect((await server.api("GET", "/registries/model/collections/zoo-data")).status).toBe(404);
  });

  it("refuses a version of another type than the collection's with a 409", async () => {
    await server.api("POST", "/registries", { name: "mixed" });
    await logVersion(server, "mixed", { name: "a-model", type: "model", content: "m" });
    await logVersion(server, "mixed", { name: "a-dataset", type: "dataset", content: "d" });
    await server.api("POST", "/registries/mixed/collections/one/versions", { project: "mixed", ref: "a-model" });
    const response = await server.api("POST", "/registries/mixed/collections/one/versions", {
      project: "mixed",
      ref: "a-dataset",
    });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("CONFLICT");
  });

  it("answers 404 naming the ref when the version does not exist", async () => {
    const response = await link("zoo-classifier", { project: "zoo", ref: "zoo-model:v9" });
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: "NOT_FOUND", field: "ref" });
  });
});

describe("registry: concurrent links", () => {
  it("numbers 12 versions linked at once v0…v11 without gaps, in a verifiable chain", async () => {
    const logged = [];
    for (let index = 0; index < 12; index++) {
      logged.push(await logVersion(server, "burst", { name: "m", type: "model", content: `burst-${index}` }));
    }
    const responses = await Promise.all(logged.map((version) => link("burst", { project: "burst", ref: version.id })));
    expect(responses.map((response) => response.status)).toEqual(Array(12).fill(201));
    const numbers = responses.map((response) => response.body.membership.version).sort();
    expect(numbers).toEqual(Array.from({ length: 12 }, (_, index) => `v${index}`).sort());
    const events = await historyOf(server, "model/collections/burst");
    expect(events.map((event) => event.action)).toEqual(["collection_created", ...Array(12).fill("version_linked")]);
    const verification = await server.api("GET", "/registries/model/collections/burst/history/verify");
    expect(verification.body).toMatchObject({ ok: true, eventCount: 13 });
  });
});

describe("registry: unlink", () => {
  it("takes the version out with its aliases, keeps its vN unused, and records the events", async () => {
    await logVersion(server, "unlink", { name: "m", type: "model", content: "u1" });
    await logVersion(server, "unlink", { name: "m", type: "model", content: "u2" });
    await link("gone", { project: "unlink", ref: "m:v0" });
    await link("gone", { project: "unlink", ref: "m:v1", aliases: ["best"] });
    const response = await server.api("DELETE", "/registries/model/collections/gone/versions/v1");
    expect(response.status).toBe(204);
    const versions = await server.api("GET", "/registries/model/collections/gone/versions");
    expect(versions.body.versions.map((v: CollectionVersion) => [v.version, v.aliases])).toEqual([["v0", ["latest"]]]);
    expect((await server.api("GET", "/projects/unlink/versions?ref=model/gone:best")).status).toBe(404);

    const relinked = await link("gone", { project: "unlink", ref: "m:v1" });
    expect(relinked.body.membership.version).toBe("v2");
    const events = (await historyOf(server, "model/collections/gone")).map(eventShape).slice(-3);
    expect(events).toEqual([
      { seq: 5, action: "alias_removed", actor: "admin", version: "v1", sourceVersion: "m:v1", alias: "best" },
      { seq: 6, action: "version_unlinked", actor: "admin", version: "v1", sourceVersion: "m:v1", alias: null },
      { seq: 7, action: "version_linked", actor: "admin", version: "v2", sourceVersion: "m:v1", alias: null },
    ]);
  });

  it("answers 409 for a version that is not linked and 404 for a vN the collection never had", async () => {
    const notLinked = await server.api("DELETE", "/registries/model/collections/gone/versions/v1");
    expect(notLinked.status).toBe(409);
    expect(notLinked.body.error).toMatchObject({ code: "CONFLICT", field: "version" });
    const never = await server.api("DELETE", "/registries/model/collections/gone/versions/v40");
    expect(never.status).toBe(404);
  });
});

describe("registry: refs and memberships", () => {
  it("resolves model/collection:alias, :latest and :vN to the artifact version linked there", async () => {
    const v0 = await logVersion(server, "refs", { name: "net", type: "model", content: "r0" });
    const v1 = await logVersion(server, "refs", { name: "net", type: "model", content: "r1" });
    await link("refs", { project: "refs", ref: "net:v1" });
    await link("refs", { project: "refs", ref: "net:v0", aliases: ["production"] });
    const resolve = async (ref: string) =>
      (await server.api("GET", `/projects/refs/versions?ref=${encodeURIComponent(ref)}`)).body.id;
    expect(await resolve("model/refs:production")).toBe(v0.id);
    expect(await resolve("model/refs:latest")).toBe(v0.id);
    expect(await resolve("model/refs")).toBe(v0.id);
    expect(await resolve("model/refs:v0")).toBe(v1.id);
    const missing = await server.api("GET", "/projects/refs/versions?ref=model/refs:staging");
    expect(missing.status).toBe(404);
    expect(missing.body.error.field).toBe("ref");
  });

  it("resolves a registry ref as of an earlier instant, before an alias moved or a version was unlinked", async () => {
    const v0 = await logVersion(server, "asof", { name: "net", type: "model", content: "a0" });
    const v1 = await logVersion(server, "asof", { name: "net", type: "model", content: "a1" });
    await link("asof", { project: "asof", ref: "net:v0", aliases: ["production"] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await link("asof", { project: "asof", ref: "net:v1", aliases: ["production"] });
    await server.api("DELETE", "/registries/model/collections/asof/versions/v0");
    const reader = (await server.api("GET", "/me")).body.user.id as string;
    const resolveAt = (ref: string, asOf?: Date) =>
      server.database.read(async (db) => (await resolveRef(db, "asof", ref, { reader, asOf })).version.id);
    expect(await resolveAt("model/asof:production")).toBe(v1.id);
    expect(await resolveAt("model/asof:production", before)).toBe(v0.id);
    expect(await resolveAt("model/asof:latest", before)).toBe(v0.id);
    expect(await resolveAt("model/asof:v0", before)).toBe(v0.id);
    await expect(resolveAt("model/asof:v0")).rejects.toThrow(/was not found/);
    await expect(resolveAt("model/asof:v1", before)).rejects.toThrow(/was not found/);
  });

  it("records the real artifact version in lineage when a run uses a registry ref", async () => {
    const version = await logVersion(server, "lineage", { name: "clf", type: "model", content: "lineage" });
    await link("lineage", { project: "lineage", ref: "clf", aliases: ["production"] });
    const run = await server.api("POST", "/projects/consumer/runs", { jobType: "eval" });
    const used = await server.api("POST", `/projects/consumer/runs/${run.body.id}/inputs`, {
      ref: "model/lineage:production",
      type: "model",
    });
    expect(used.status).toBe(200);
    expect(used.body.id).toBe(version.id);
    const details = await server.api("GET", `/projects/consumer/runs/${run.body.id}`);
    expect(details.body.inputs).toHaveLength(1);
    expect(details.body.inputs[0]).toMatchObject({
      requestedRef: "model/lineage:production",
      version: { id: version.id, project: "lineage", artifact: "clf", version: "v0" },
    });
    const versionDetails = await server.api("GET", `/projects/lineage/versions/${version.id}`);
    expect(versionDetails.body.consumers.map((consumer: { requestedRef: string }) => consumer.requestedRef)).toEqual([
      "model/lineage:production",
    ]);
  });

  it("shows a version's memberships in its details", async () => {
    const version = await logVersion(server, "members", { name: "clf", type: "model", content: "members" });
    await server.api("POST", "/registries", { name: "archive" });
    await link("members-a", { project: "members", ref: "clf", aliases: ["staging"] });
    await server.api("POST", "/registries/archive/collections/old/versions", { project: "members", ref: "clf" });
    const details = await server.api("GET", `/projects/members/versions/${version.id}`);
    expect(
      details.body.memberships.map((m: RegistryMembership) => [m.registry, m.collection, m.version, m.aliases]),
    ).toEqual([
      ["archive", "old", "v0", ["latest"]],
      ["model", "members-a", "v0", ["latest", "staging"]],
    ]);
  });
});
