import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Artifact,
  AuthError,
  ConflictError,
  type HistoryEvent,
  NotFoundError,
  Pedigree,
  ValidationError,
} from "@pedigree/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let pd: Pedigree;
let workDir: string;

beforeAll(async () => {
  server = await startTestServer();
  pd = new Pedigree({ baseUrl: server.url, apiKey: server.apiKey, project: "zoo", pedigreeDir: server.dir });
  workDir = await mkdtemp(join(tmpdir(), "pedigree-sdk-registry-"));
  await pd.createRegistry({
    name: "model",
    acceptedTypes: ["model"],
    protectedAliases: ["production"],
    visibility: "organization",
  });
});
afterAll(() => server.close());

async function modelArtifact(weights: string) {
  const file = join(workDir, `${weights}.bin`);
  await writeFile(file, weights);
  const artifact = new Artifact({ name: "zoo-model", type: "model" });
  await artifact.addFile(file, { name: "model.bin" });
  return artifact;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("sdk: registry", () => {
  it("creates a registry idempotently and refuses other settings", async () => {
    const again = await pd.createRegistry({
      name: "model",
      acceptedTypes: ["model"],
      protectedAliases: ["production"],
      visibility: "organization",
    });
    expect(again).toMatchObject({
      name: "model",
      acceptedTypes: ["model"],
      protectedAliases: ["production"],
      visibility: "organization",
    });
    await expect(pd.createRegistry({ name: "model" })).rejects.toBeInstanceOf(ConflictError);
  });

  it("links from a run, promotes staging to production, and lists the history of every page", async () => {
    const run = await pd.init({ jobType: "training" });
    const first = await run.logArtifact(await modelArtifact("weights-1"));
    const second = await run.logArtifact(await modelArtifact("weights-2"));
    const linked = await run.linkArtifact(first, "model/zoo-classifier", { aliases: ["staging"] });
    expect(linked).toMatchObject({ collection: "zoo-classifier", version: "v0", aliases: ["latest", "staging"] });
    await run.finish();

    const registry = pd.registry("model");
    await registry.link("zoo-model:v1", "zoo-classifier", { aliases: ["staging"] });
    const collection = registry.collection("zoo-classifier");
    await collection.addAlias("v1", "production");
    await collection.setAliases(second, ["production", "best"]);
    await collection.removeAlias("best");

    const versions = await collection.versions();
    expect(versions.map((v) => [v.version, v.aliases, v.source.id])).toEqual([
      ["v1", ["latest", "production"], second.id],
      ["v0", [], first.id],
    ]);
    const production = await pd.artifact(collection.ref("production"));
    expect(production.id).toBe(second.id);

    const all = await collect(collection.actionHistory({ pageSize: 2 }));
    expect(all.map((event) => event.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(all.map((event) => [event.action, event.version, event.alias]).reverse()).toEqual([
      ["collection_created", null, null],
      ["version_linked", "v0", null],
      ["alias_added", "v0", "staging"],
      ["version_linked", "v1", null],
      ["alias_removed", "v0", "staging"],
      ["alias_added", "v1", "staging"],
      ["alias_added", "v1", "production"],
      ["alias_removed", "v1", "staging"],
      ["alias_added", "v1", "best"],
      ["alias_removed", "v1", "best"],
    ]);
    const aliasEvents: HistoryEvent[] = await collect(
      collection.actionHistory({ action: ["alias_added", "alias_removed"], version: "v1", pageSize: 1 }),
    );
    expect(aliasEvents.map((event) => `${event.action}:${event.alias}`)).toEqual([
      "alias_removed:best",
      "alias_added:best",
      "alias_removed:staging",
      "alias_added:production",
      "alias_added:staging",
    ]);
    const verified = await collection.verifyHistory();
    expect(verified).toMatchObject({ ok: true, eventCount: 10, firstBroken: null, stateDifferences: [], since: null });
    expect(verified.head).toEqual({ seq: 10, hash: verified.headHash });

    // A checkpoint kept from that answer: the chain still extends it after one more change.
    await collection.addAlias("v0", "candidate");
    const later = await collection.verifyHistory({ since: verified.head });
    expect(later).toMatchObject({ ok: true, eventCount: 11, since: { ...verified.head, inChain: true, reason: null } });
    const forged = await collection.verifyHistory({ since: { seq: 10, hash: "0".repeat(64) } });
    expect(forged).toMatchObject({ ok: false, firstBroken: null, since: { seq: 10, inChain: false } });
  });

  it("uses a registry ref as a run input, recording the artifact version behind it", async () => {
    const run = await pd.init({ jobType: "eval" });
    const used = await run.useArtifact("model/zoo-classifier:production", { type: "model" });
    await run.finish();
    expect(used.name).toBe("zoo-model");
    expect(used.version).toBe("v1");
    const details = await pd.run(run.id);
    expect(details.inputs.map((input) => [input.requestedRef, input.version.id])).toEqual([
      ["model/zoo-classifier:production", used.id],
    ]);
    const memberships = (await used.fetchDetails(true)).memberships;
    expect(memberships).toEqual([
      expect.objectContaining({ registry: "model", collection: "zoo-classifier", version: "v1" }),
    ]);
  });

  it("unlinks by the collection's vN, and lists collections by filter", async () => {
    const registry = pd.registry("model");
    await registry.unlink("v0", "zoo-classifier");
    expect((await registry.collection("zoo-classifier").versions()).map((v) => v.version)).toEqual(["v1"]);
    await expect(registry.unlink("v0", "zoo-classifier")).rejects.toBeInstanceOf(ConflictError);
    await registry.collection("zoo-classifier").update({ tags: ["vision"] });
    expect((await registry.collections({ tag: "vision" })).items.map((c) => c.name)).toEqual(["zoo-classifier"]);
    expect(await registry.collections({ prefix: "nothing" })).toEqual({ items: [], total: 0 });
  });

  it("surfaces 403 on a protected alias and 400 on a type the registry refuses as typed errors", async () => {
    const memberKey = await createMember(server, "dana");
    const member = new Pedigree({ baseUrl: server.url, apiKey: memberKey, project: "zoo", pedigreeDir: server.dir });
    const collection = member.registry("model").collection("zoo-classifier");
    await expect(collection.removeAlias("production")).rejects.toBeInstanceOf(AuthError);
    await expect(member.createRegistry({ name: "mine" })).rejects.toBeInstanceOf(AuthError);

    const run = await pd.init({ jobType: "split" });
    const file = join(workDir, "rows.csv");
    await writeFile(file, "a,b\n");
    const dataset = new Artifact({ name: "rows", type: "dataset" });
    await dataset.addFile(file);
    const version = await run.logArtifact(dataset);
    await run.finish();
    const refused = await pd
      .registry("model")
      .link(version, "rows")
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ status: 400, field: "ref" });
  });

  it("reads a restricted registry only as its member, who downloads what it links without a role in the project", async () => {
    const vault = await pd.createRegistry({ name: "vault" });
    expect(vault.visibility).toBe("restricted");
    const run = await pd.init({ jobType: "training" });
    const logged = await run.logArtifact(await modelArtifact("vault-weights"));
    await run.linkArtifact(logged, "vault/secret-model", { aliases: ["production"] });
    await run.finish();

    const key = (await server.api("POST", "/users", { name: "frank" })).body.apiKey as string;
    const frank = new Pedigree({ baseUrl: server.url, apiKey: key, pedigreeDir: server.dir });
    expect((await frank.registries()).map((r) => r.name)).toEqual(["model"]);
    await expect(frank.artifact("vault/secret-model:production")).rejects.toBeInstanceOf(NotFoundError);

    await server.api("PUT", "/registries/vault/members/frank", { role: "viewer" });
    expect((await frank.registries()).map((r) => [r.name, r.visibility])).toEqual([
      ["model", "organization"],
      ["vault", "restricted"],
    ]);
    const version = await frank.artifact("vault/secret-model:production");
    expect(version.id).toBe(logged.id);
    expect(version.via).toEqual({ registry: "vault", collection: "secret-model" });
    const dir = await version.download(join(workDir, "frank"));
    expect(await readFile(join(dir, "model.bin"), "utf8")).toBe("vault-weights");
    // The project itself stays invisible to frank.
    await expect(frank.artifact(logged.id, { project: "zoo" })).rejects.toBeInstanceOf(NotFoundError);
  });
});
