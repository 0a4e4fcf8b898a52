import { createHash } from "node:crypto";
import {
  CommitVersionBody,
  CreateCollectionBody,
  CreateKeyBody,
  CreateRegistryBody,
  CreateRunBody,
  CreateUserBody,
  CreateVersionBody,
  LinkBody,
  SetAliasBody,
  SetCollectionAliasBody,
  SetMemberBody,
  UpdateCollectionBody,
  UpdateRunBody,
  UseArtifactBody,
} from "@pedigree/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectRows, sql } from "../../packages/server/src/db/client";
import { configurePropertySeed } from "../fixtures/fast-check-seed";
import { startTestServer, type TestServer } from "../fixtures/server";

configurePropertySeed();

/**
 * Hostile input at every route: generated malformed bodies, refs, path parameters, query strings and
 * credentials. Whatever comes in, the answer is never a 500, every error is JSON naming its field, and
 * the database is exactly as it was.
 */
let server: TestServer;
let versionId = "";
let inputsTried = 0;
const RUN_ID = "fuzzrun1";
const runs = Number(process.env.PEDIGREE_FUZZ_RUNS ?? 120);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

beforeAll(async () => {
  server = await startTestServer();
  await server.api("POST", "/projects/fz/runs", { id: RUN_ID, jobType: "training" });
  const content = "fuzz rows";
  await fetch(`${server.url}/api/v1/blobs/${sha256(content)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${server.apiKey}` },
    body: content,
  });
  const created = await server.api("POST", "/projects/fz/versions", {
    name: "ds",
    type: "dataset",
    manifest: [{ path: "data.txt", sha256: sha256(content), size: content.length }],
    aliases: ["best"],
    runId: RUN_ID,
  });
  versionId = created.body.version.id;
  await server.api("POST", "/users", { name: "someone" });
  await server.api("POST", "/registries", { name: "model", protectedAliases: ["production"] });
  await server.api("POST", "/registries/model/collections/clf/versions", {
    project: "fz",
    ref: "ds",
    aliases: ["production"],
  });
});
afterAll(() => server.close());

/** Row count and an md5 of every row of every table: equal digests, unchanged database. */
async function databaseDigest(): Promise<Record<string, string>> {
  return server.database.read(async (db) => {
    const tables = await selectRows<{ name: string }>(
      db,
      sql`select table_name as name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
    );
    const digest: Record<string, string> = {};
    for (const { name } of tables) {
      const [row] = await selectRows<{ n: number; h: string | null }>(
        db,
        sql.raw(`select count(*)::int as n, md5(string_agg(t::text, '|' order by t::text)) as h from "${name}" t`),
      );
      digest[name] = `${row?.n}:${row?.h ?? ""}`;
    }
    return digest;
  });
}

const nasty = fc.constantFrom(
  "",
  " ",
  "..",
  "../etc/passwd",
  "/etc/passwd",
  "a\\b",
  "\u0000",
  "a\u0000b",
  "%00",
  "%2e%2e%2f",
  "latest",
  "v0",
  "v99999999999999999999",
  "ds:latest",
  "ds:v-1",
  "model/zoo:production",
  "a/b/c:d",
  ":",
  "::",
  "a".repeat(5000),
  "av_0000000000000000",
  "zzzzzzzz",
  "' or 1=1 --",
  "${jndi:ldap://x}",
  "NaN",
  "-1",
  "1e309",
  "0x10",
  "\ud83d\ude00",
);
/** Any text, nasty or random, in any script. */
const text = fc.oneof(
  nasty,
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ maxLength: 400 }),
);
const segment = (value: string) => encodeURIComponent(value);

interface Schema {
  safeParse(value: unknown): { success: boolean };
}
const wellFormed = (value: string) => value.replace(/\p{Cs}/gu, "?");

/** A JSON value that the route's schema refuses: what the server must turn away. */
function malformed(schema: Schema, valid: Record<string, unknown>) {
  const replaced = fc
    .tuple(fc.constantFrom(...Object.keys(valid), "extra"), fc.oneof(fc.jsonValue(), text))
    .map(([key, value]) => ({ ...valid, [key]: value }));
  const removed = fc.constantFrom(...Object.keys(valid)).map((key) => {
    const { [key]: _, ...rest } = valid;
    return rest;
  });
  return fc
    .oneof(replaced, replaced, removed, fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 3 }))
    .filter((body) => !schema.safeParse(body).success);
}

type Body = { json: unknown } | { raw: string } | undefined;
const rawBody = fc.oneof(fc.string(), fc.constantFrom("{", "[1,", '{"a":', "nul", "\u0000", "{}}", '{"x":"\\u0000"}'));
/** Raw text that is not JSON, or JSON the schema refuses. */
const refusedRaw = (schema: Schema) =>
  rawBody.filter((raw) => {
    try {
      return !schema.safeParse(JSON.parse(raw)).success;
    } catch {
      return true;
    }
  });
const bodyOf = (schema: Schema, valid: Record<string, unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: malformed(schema, valid).map((json): Body => ({ json })) },
    { weight: 1, arbitrary: refusedRaw(schema).map((raw): Body => ({ raw })) },
  );

const query = fc
  .dictionary(
    fc.oneof(
      fc.constantFrom(
        "ref",
        "limit",
        "cursor",
        "path",
        "type",
        "jobType",
        "node",
        "upstream",
        "downstream",
        "maxNodes",
        "clusterMin",
        "asOf",
        "pull",
        "artifactTypes",
      ),
      fc.string(),
    ),
    text,
    { maxKeys: 3 },
  )
  .map((entries) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(entries)) params.append(key, wellFormed(value));
    const rendered = params.toString();
    return rendered ? `?${rendered}` : "";
  });

const project = fc.oneof(fc.constant("fz"), fc.constant("fz-missing"), text);
const runId = fc.oneof(fc.constant(RUN_ID), fc.constant("nosuch00"), text);
const version = fc.oneof(
  fc.constant("existing"),
  fc.constant("av_nosuchversion00"),
  text.filter((value) => value !== "existing"),
);
const registry = fc.oneof(fc.constant("model"), fc.constant("missing-registry"), text);
const collection = fc.oneof(fc.constant("clf"), text);
const versionSegment = (value: string) => segment(value === "existing" ? versionId : value);

interface Attempt {
  method: string;
  path: string;
  body: Body;
}

/** Every route, with generated parameters; writes always carry a body their schema refuses. */
const attempts: Record<string, fc.Arbitrary<Attempt>> = {
  "POST runs": fc.record({
    method: fc.constant("POST"),
    path: project.map((p) => `/projects/${segment(p)}/runs`),
    body: bodyOf(CreateRunBody, { id: "fuzzrun2", jobType: "training", config: {}, tags: [] }),
  }),
  "GET runs": fc.record({
    method: fc.constant("GET"),
    path: fc.tuple(project, query).map(([p, q]) => `/projects/${segment(p)}/runs${q}`),
    body: fc.constant(undefined),
  }),
  "GET run": fc.record({
    method: fc.constant("GET"),
    path: fc.tuple(project, runId).map(([p, r]) => `/projects/${segment(p)}/runs/${segment(r)}`),
    body: fc.constant(undefined),
  }),
  "PATCH run": fc.record({
    method: fc.constant("PATCH"),
    path: fc.tuple(project, runId).map(([p, r]) => `/projects/${segment(p)}/runs/${segment(r)}`),
    body: bodyOf(UpdateRunBody, { state: "finished", tags: ["a"], summary: {} }),
  }),
  "POST run inputs": fc.record({
    method: fc.constant("POST"),
    path: fc.tuple(project, runId).map(([p, r]) => `/projects/${segment(p)}/runs/${segment(r)}/inputs`),
    body: bodyOf(UseArtifactBody, { ref: "ds:latest", type: "dataset" }),
  }),
  "POST versions": fc.record({
    method: fc.constant("POST"),
    path: project.map((p) => `/projects/${segment(p)}/versions`),
    body: bodyOf(CreateVersionBody, {
      name: "ds",
      type: "dataset",
      manifest: [{ path: "f.txt", uri: "s3://b/k" }],
      metadata: {},
      aliases: ["best"],
      inlineBlobs: {},
    }),
  }),
  "POST commit": fc.record({
    method: fc.constant("POST"),
    path: fc.tuple(project, version).map(([p, v]) => `/projects/${segment(p)}/versions/${versionSegment(v)}/commit`),
    body: bodyOf(CommitVersionBody, { runId: RUN_ID, aliases: ["best"] }),
  }),
  "GET versions by ref": fc.record({
    method: fc.constant("GET"),
    path: fc
      .tuple(project, text, query)
      .map(([p, ref, q]) => `/projects/${segment(p)}/versions?ref=${segment(wellFormed(ref))}${q.replace("?", "&")}`),
    body: fc.constant(undefined),
  }),
  "GET version": fc.record({
    method: fc.constant("GET"),
    path: fc.tuple(project, version).map(([p, v]) => `/projects/${segment(p)}/versions/${versionSegment(v)}`),
    body: fc.constant(undefined),
  }),
  "GET version file": fc.record({
    method: fc.constant("GET"),
    path: fc
      .tuple(project, version, text)
      .map(
        ([p, v, file]) =>
          `/projects/${segment(p)}/versions/${versionSegment(v)}/files?path=${segment(wellFormed(file))}`,
      ),
    body: fc.constant(undefined),
  }),
  "GET artifacts": fc.record({
    method: fc.constant("GET"),
    path: fc.tuple(project, query).map(([p, q]) => `/projects/${segment(p)}/artifacts${q}`),
    body: fc.constant(undefined),
  }),
  "GET artifact": fc.record({
    method: fc.constant("GET"),
    path: fc.tuple(project, text).map(([p, n]) => `/projects/${segment(p)}/artifacts/${segment(n)}`),
    body: fc.constant(undefined),
  }),
  "PUT alias": fc.record({
    method: fc.constant("PUT"),
    path: fc
      .tuple(project, fc.oneof(fc.constant("ds"), text), text)
      .map(([p, n, a]) => `/projects/${segment(p)}/artifacts/${segment(n)}/aliases/${segment(a)}`),
    body: bodyOf(SetAliasBody, { version: "v0" }),
  }),
  "DELETE alias": fc.record({
    method: fc.constant("DELETE"),
    path: fc
      .tuple(
        project,
        fc.oneof(fc.constant("ds"), text),
        text.filter((a) => a !== "best"),
      )
      .map(([p, n, a]) => `/projects/${segment(p)}/artifacts/${segment(n)}/aliases/${segment(a)}`),
    body: fc.constant(undefined),
  }),
  "GET members": fc.record({
    method: fc.constant("GET"),
    path: project.map((p) => `/projects/${segment(p)}/members`),
    body: fc.constant(undefined),
  }),
  "PUT member": fc.record({
    method: fc.constant("PUT"),
    path: fc
      .tuple(project, fc.oneof(fc.constant("someone"), text))
      .map(([p, u]) => `/projects/${segment(p)}/members/${segment(u)}`),
    body: bodyOf(SetMemberBody, { role: "viewer" }),
  }),
  "DELETE member": fc.record({
    method: fc.constant("DELETE"),
    path: fc
      .tuple(
        project,
        text.filter((u) => u !== "admin"),
      )
      .map(([p, u]) => `/projects/${segment(p)}/members/${segment(u)}`),
    body: fc.constant(undefined),
  }),
  "POST users": fc.record({
    method: fc.constant("POST"),
    path: fc.constant("/users"),
    body: bodyOf(CreateUserBody, { name: "newbie", isAdmin: false }),
  }),
  "POST keys": fc.record({
    method: fc.constant("POST"),
    path: fc.constant("/keys"),
    body: bodyOf(CreateKeyBody, { name: "k", expiresAt: "2999-01-01T00:00:00Z" }),
  }),
  "DELETE key": fc.record({
    method: fc.constant("DELETE"),
    path: text.map((k) => `/keys/${segment(k)}`),
    body: fc.constant(undefined),
  }),
  "GET lineage": fc.record({
    method: fc.constant("GET"),
    path: fc
      .tuple(project, fc.oneof(fc.constant("ds"), fc.constant(RUN_ID), text), query)
      .map(([p, node, q]) => `/projects/${segment(p)}/lineage?node=${segment(wellFormed(node))}${q.replace("?", "&")}`),
    body: fc.constant(undefined),
  }),
  "GET impact": fc.record({
    method: fc.constant("GET"),
    path: fc
      .tuple(project, fc.oneof(fc.constant("ds"), text), query)
      .map(([p, node, q]) => `/projects/${segment(p)}/impact?node=${segment(wellFormed(node))}${q.replace("?", "&")}`),
    body: fc.constant(undefined),
  }),
  "POST registries": fc.record({
    method: fc.constant("POST"),
    path: fc.constant("/registries"),
    body: bodyOf(CreateRegistryBody, { name: "fresh", description: "", protectedAliases: ["production"] }),
  }),
  "POST collections": fc.record({
    method: fc.constant("POST"),
    path: registry.map((r) => `/registries/${segment(r)}/collections`),
    body: bodyOf(CreateCollectionBody, { name: "fresh", type: "dataset", tags: [] }),
  }),
  "GET collections": fc.record({
    method: fc.constant("GET"),
    path: fc.tuple(registry, query).map(([r, q]) => `/registries/${segment(r)}/collections${q}`),
    body: fc.constant(undefined),
  }),
  "PATCH collection": fc.record({
    method: fc.constant("PATCH"),
    path: fc.tuple(registry, collection).map(([r, c]) => `/registries/${segment(r)}/collections/${segment(c)}`),
    body: bodyOf(UpdateCollectionBody, { description: "d", tags: ["t"] }),
  }),
  "POST link": fc.record({
    method: fc.constant("POST"),
    path: fc
      .tuple(registry, collection)
      .map(([r, c]) => `/registries/${segment(r)}/collections/${segment(c)}/versions`),
    body: bodyOf(LinkBody, { project: "fz", ref: "ds", aliases: ["staging"], move: true }),
  }),
  "DELETE link": fc.record({
    method: fc.constant("DELETE"),
    path: fc
      .tuple(
        registry,
        collection,
        text.filter((v) => !/^v\d+$/.test(v)),
      )
      .map(([r, c, v]) => `/registries/${segment(r)}/collections/${segment(c)}/versions/${segment(v)}`),
    body: fc.constant(undefined),
  }),
  "PUT collection alias": fc.record({
    method: fc.constant("PUT"),
    path: fc
      .tuple(registry, collection, fc.oneof(fc.constant("production"), text))
      .map(([r, c, a]) => `/registries/${segment(r)}/collections/${segment(c)}/aliases/${segment(a)}`),
    body: bodyOf(SetCollectionAliasBody, { version: "v0", move: true }),
  }),
  "GET history": fc.record({
    method: fc.constant("GET"),
    path: fc
      .tuple(registry, collection, query)
      .map(([r, c, q]) => `/registries/${segment(r)}/collections/${segment(c)}/history${q}`),
    body: fc.constant(undefined),
  }),
  "PUT registry member": fc.record({
    method: fc.constant("PUT"),
    path: fc
      .tuple(registry, fc.oneof(fc.constant("someone"), text))
      .map(([r, u]) => `/registries/${segment(r)}/members/${segment(u)}`),
    body: bodyOf(SetMemberBody, { role: "viewer" }),
  }),
  "PUT blob": fc.record({
    method: fc.constant("PUT"),
    path: fc.oneof(fc.constant(sha256("never uploaded")), text).map((s) => `/blobs/${segment(s)}`),
    body: fc.string().map((raw): Body => ({ raw })),
  }),
};

async function send(attempt: Attempt, apiKey = server.apiKey) {
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  let body: string | undefined;
  if (attempt.body && "json" in attempt.body) body = JSON.stringify(attempt.body.json);
  if (attempt.body && "raw" in attempt.body) body = attempt.body.raw;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}/api/v1${attempt.path}`, {
    method: attempt.method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  inputsTried++;
  const textBody = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text: textBody };
}

function expectHandled(attempt: Attempt, response: Awaited<ReturnType<typeof send>>) {
  const where = `${attempt.method} ${attempt.path} ${JSON.stringify(attempt.body)?.slice(0, 300)} -> ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, where).not.toBeGreaterThanOrEqual(500);
  if (attempt.method !== "GET") expect(response.status, where).toBeGreaterThanOrEqual(400);
  if (response.status < 400) return;
  expect(response.contentType, where).toContain("application/json");
  const error = JSON.parse(response.text).error;
  expect(typeof error.code, where).toBe("string");
  expect(typeof error.message, where).toBe("string");
  expect(error.field, where).toEqual(expect.any(String));
  expect(error.field.length, where).toBeGreaterThan(0);
}

describe("fuzz: hostile input at every route", () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    before = await databaseDigest();
  });

  it.each(Object.entries(attempts))(
    "%s: never a 500, always a JSON error naming the field",
    async (_, arbitrary) => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (attempt) => expectHandled(attempt, await send(attempt))),
        { numRuns: runs },
      );
    },
    120_000,
  );

  it("refuses generated credentials with a 401 naming the authorization", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), fc.constantFrom("GET", "POST"), async (key, method) => {
        const attempt = { method, path: "/projects/fz/runs", body: method === "POST" ? { json: {} } : undefined };
        const response = await send(attempt, wellFormed(key).replace(/[^\x21-\x7e]/g, "x"));
        expect(response.status).toBe(401);
        expect(JSON.parse(response.text).error).toMatchObject({ code: "UNAUTHORIZED", field: "authorization" });
      }),
      { numRuns: runs },
    );
  }, 120_000);

  it("left the database exactly as it was", async () => {
    expect(await databaseDigest()).toEqual(before);
    console.log(`fuzz: ${inputsTried} generated requests over ${Object.keys(attempts).length + 1} properties`);
  });
});
