import { createHash } from "node:crypto";
import {
  AliasName,
  ArtifactListQuery,
  ArtifactName,
  ClusterId,
  ClusterMembersQuery,
  CollectionListQuery,
  CollectionName,
  CollectionVersionSelector,
  CommitVersionBody,
  CompleteDirectUploadBody,
  CreateCollectionBody,
  CreateKeyBody,
  CreateRegistryBody,
  CreateRunBody,
  CreateUserBody,
  CreateVersionBody,
  encodeHistoryCursor,
  HistoryQuery,
  ImpactQuery,
  KeyId,
  LineagePathQuery,
  LineageQuery,
  LinkBody,
  MAX_SAFE_SIZE,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  ProjectName,
  RegistryName,
  ResolveVersionQuery,
  RunId,
  RunListQuery,
  SetAliasBody,
  SetCollectionAliasBody,
  SetMemberBody,
  SetVersionAliasesBody,
  Sha256,
  UpdateCollectionBody,
  UpdateRunBody,
  UseArtifactBody,
  UserName,
  VersionFileQuery,
  VersionId,
} from "@pedigree/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectRows, sql } from "../../packages/server/src/db/client";
import { configurePropertySeed } from "../fixtures/fast-check-seed";
import {
  type Boundary,
  boundaryValues,
  fieldsOf,
  jsonSchemaOf,
  objectVariants,
  withValue,
} from "../fixtures/schema-boundaries";
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
const runs = Number(process.env.PEDIGREE_FUZZ_RUNS ?? 40);

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

/**
 * Of every table, in one query: the row count and the newest row version (`xmin`, the transaction that last
 * wrote the row). Any committed insert or update brings a newer xmin and any delete lowers the count, while
 * a transaction that rolled back leaves both as they were: equal digests, unchanged database.
 */
let digestQuery: ReturnType<typeof sql.raw> | undefined;
async function databaseDigest(): Promise<Record<string, string>> {
  return server.database.read(async (db) => {
    if (!digestQuery) {
      const tables = await selectRows<{ name: string }>(
        db,
        sql`select table_name as name from information_schema.tables
            where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
      );
      digestQuery = sql.raw(
        tables
          .map(
            ({ name }) =>
              `select '${name}' as name, count(*)::int as n, max(xmin::text::bigint)::text as h from "${name}"`,
          )
          .join(" union all "),
      );
    }
    const rows = await selectRows<{ name: string; n: number; h: string | null }>(db, digestQuery);
    return Object.fromEntries(rows.map((row) => [row.name, `${row.n}:${row.h ?? ""}`]));
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
  "POST blob direct": fc.record({
    method: fc.constant("POST"),
    path: fc.oneof(fc.constant(sha256("never uploaded")), text).map((s) => `/blobs/${segment(s)}/direct`),
    body: bodyOf(CompleteDirectUploadBody, { upload: "6f1c3a52-59b1-4d3e-9a3b-2b1e0d7c9f10" }),
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

/**
 * Boundary values from the schemas themselves, at every route: each path parameter, query parameter and
 * body field in turn takes each value `boundaryValues` reads from its schema (min/max and one past, int4
 * and 2^53, far dates, strings at and past their length, every enum member and a non-member, null, missing,
 * extra), the rest of the request staying valid. Never a 500; a value its schema refuses is a 400 naming
 * that field; and no refused request changes the database.
 */
type ParseableSchema = Parameters<typeof jsonSchemaOf>[0] & Schema;

interface RouteSpec {
  method: string;
  /** With `:name` parameters, each taken from `params`. */
  path: string;
  params?: Record<string, { schema: ParseableSchema; valid: string }>;
  query?: { schema: ParseableSchema; valid: Record<string, string>; extra?: Record<string, Boundary[]> };
  body?: { schema: ParseableSchema; valid: Record<string, unknown> };
}

const projectParam = { schema: ProjectName, valid: "fz" };
const registryParam = { schema: RegistryName, valid: "model" };
const collectionParam = { schema: CollectionName, valid: "clf" };
const collectionPath = "/registries/:registry/collections/:collection";
const inCollection = { registry: registryParam, collection: collectionParam };
const cursorOf = (text: string) => Buffer.from(text).toString("base64url");
const historyCursors: Boundary[] = [
  { value: encodeHistoryCursor({ at: new Date(MIN_TIMESTAMP), id: MAX_SAFE_SIZE }), why: "cursor at the lower bound" },
  { value: encodeHistoryCursor({ at: new Date(MAX_TIMESTAMP), id: 0 }), why: "cursor at the upper bound" },
  { value: cursorOf("0000-01-01T00:00:00.000Z|1"), why: "cursor in year 0" },
  { value: cursorOf("+275760-09-13T00:00:00.000Z|1"), why: "cursor in year 275760" },
  { value: cursorOf(`2026-01-01T00:00:00.000Z|${2n ** 63n}`), why: "cursor id past int8" },
  { value: cursorOf(`2026-01-01T00:00:00.000Z|${2 ** 53}`), why: "cursor id past 2^53" },
  { value: cursorOf("2026-01-01T00:00:00.000Z|-1"), why: "negative cursor id" },
  { value: cursorOf("1|1"), why: "cursor with a bare number for a date" },
  { value: "%%%", why: "cursor that is not base64url" },
];

/** Every route of the API, with the protocol schema of each input and one valid request. */
const routeSpecs: Record<string, RouteSpec> = {
  "POST runs": {
    method: "POST",
    path: "/projects/:project/runs",
    params: { project: projectParam },
    body: { schema: CreateRunBody, valid: { id: "fuzzrun2", name: "n", jobType: "training", config: {}, tags: ["t"] } },
  },
  "GET runs": {
    method: "GET",
    path: "/projects/:project/runs",
    params: { project: projectParam },
    query: { schema: RunListQuery, valid: { limit: "10", jobType: "training", cursor: "5" } },
  },
  "GET run": {
    method: "GET",
    path: "/projects/:project/runs/:runId",
    params: { project: projectParam, runId: { schema: RunId, valid: RUN_ID } },
  },
  "PATCH run": {
    method: "PATCH",
    path: "/projects/:project/runs/:runId",
    params: { project: projectParam, runId: { schema: RunId, valid: RUN_ID } },
    body: { schema: UpdateRunBody, valid: { heartbeat: true, tags: ["a"], summary: { loss: 1 } } },
  },
  "POST run inputs": {
    method: "POST",
    path: "/projects/:project/runs/:runId/inputs",
    params: { project: projectParam, runId: { schema: RunId, valid: RUN_ID } },
    body: { schema: UseArtifactBody, valid: { ref: "ds:best", type: "dataset", project: "fz" } },
  },
  "POST versions": {
    method: "POST",
    path: "/projects/:project/versions",
    params: { project: projectParam },
    body: {
      schema: CreateVersionBody,
      valid: {
        name: "ds",
        type: "dataset",
        manifest: [{ path: "f.txt", uri: "s3://b/k", size: 1 }],
        metadata: { rows: 1 },
        description: "d",
        runId: RUN_ID,
        aliases: ["best"],
      },
    },
  },
  "POST commit": {
    method: "POST",
    path: "/projects/:project/versions/:versionId/commit",
    params: { project: projectParam, versionId: { schema: VersionId, valid: "av_nosuchversion000" } },
    body: { schema: CommitVersionBody, valid: { runId: RUN_ID, aliases: ["best"] } },
  },
  "GET versions by ref": {
    method: "GET",
    path: "/projects/:project/versions",
    params: { project: projectParam },
    query: { schema: ResolveVersionQuery, valid: { ref: "ds" } },
  },
  "GET version": {
    method: "GET",
    path: "/projects/:project/versions/:versionId",
    params: { project: projectParam, versionId: { schema: VersionId, valid: "existing" } },
  },
  "GET version file": {
    method: "GET",
    path: "/projects/:project/versions/:versionId/files",
    params: { project: projectParam, versionId: { schema: VersionId, valid: "existing" } },
    query: { schema: VersionFileQuery, valid: { path: "data.txt", direct: "true" } },
  },
  "GET artifacts": {
    method: "GET",
    path: "/projects/:project/artifacts",
    params: { project: projectParam },
    query: { schema: ArtifactListQuery, valid: { type: "dataset" } },
  },
  "GET artifact": {
    method: "GET",
    path: "/projects/:project/artifacts/:name",
    params: { project: projectParam, name: { schema: ArtifactName, valid: "ds" } },
  },
  "PUT alias": {
    method: "PUT",
    path: "/projects/:project/artifacts/:name/aliases/:alias",
    params: {
      project: projectParam,
      name: { schema: ArtifactName, valid: "ds" },
      alias: { schema: AliasName, valid: "best" },
    },
    body: { schema: SetAliasBody, valid: { version: "v0" } },
  },
  "DELETE alias": {
    method: "DELETE",
    path: "/projects/:project/artifacts/:name/aliases/:alias",
    params: {
      project: projectParam,
      name: { schema: ArtifactName, valid: "ds" },
      alias: { schema: AliasName, valid: "gone" },
    },
  },
  "GET members": { method: "GET", path: "/projects/:project/members", params: { project: projectParam } },
  "PUT member": {
    method: "PUT",
    path: "/projects/:project/members/:user",
    params: { project: projectParam, user: { schema: UserName, valid: "someone" } },
    body: { schema: SetMemberBody, valid: { role: "viewer" } },
  },
  "DELETE member": {
    method: "DELETE",
    path: "/projects/:project/members/:user",
    params: { project: projectParam, user: { schema: UserName, valid: "nobody" } },
  },
  "POST users": {
    method: "POST",
    path: "/users",
    body: { schema: CreateUserBody, valid: { name: "newbie", isAdmin: false, key: { name: "k" } } },
  },
  "POST keys": {
    method: "POST",
    path: "/keys",
    body: { schema: CreateKeyBody, valid: { name: "k", expiresAt: "2999-01-01T00:00:00Z" } },
  },
  "DELETE key": {
    method: "DELETE",
    path: "/keys/:keyId",
    params: { keyId: { schema: KeyId, valid: "k_000000000000" } },
  },
  "GET lineage": {
    method: "GET",
    path: "/projects/:project/lineage",
    params: { project: projectParam },
    query: {
      schema: LineageQuery,
      valid: { node: "ds", upstream: "1", maxNodes: "100", asOf: "2999-01-01T00:00:00Z" },
    },
  },
  "GET lineage path": {
    method: "GET",
    path: "/projects/:project/lineage/path",
    params: { project: projectParam },
    query: { schema: LineagePathQuery, valid: { from: "ds", to: RUN_ID } },
  },
  "GET cluster members": {
    method: "GET",
    path: "/projects/:project/lineage/clusters/:clusterId/members",
    params: { project: projectParam, clusterId: { schema: ClusterId, valid: "cl_0000000000000000" } },
    query: { schema: ClusterMembersQuery, valid: { node: "ds", limit: "10", offset: "0" } },
  },
  "GET impact": {
    method: "GET",
    path: "/projects/:project/impact",
    params: { project: projectParam },
    query: { schema: ImpactQuery, valid: { node: "ds" } },
  },
  "POST registries": {
    method: "POST",
    path: "/registries",
    body: {
      schema: CreateRegistryBody,
      valid: { name: "fresh", description: "", acceptedTypes: ["dataset"], protectedAliases: ["production"] },
    },
  },
  "GET registry": { method: "GET", path: "/registries/:registry", params: { registry: registryParam } },
  "GET collections": {
    method: "GET",
    path: "/registries/:registry/collections",
    params: { registry: registryParam },
    query: { schema: CollectionListQuery, valid: { limit: "10", type: "dataset", tag: "t", prefix: "c" } },
  },
  "POST collections": {
    method: "POST",
    path: "/registries/:registry/collections",
    params: { registry: registryParam },
    body: { schema: CreateCollectionBody, valid: { name: "fresh", type: "dataset", description: "", tags: [] } },
  },
  "GET collection": { method: "GET", path: collectionPath, params: inCollection },
  "PATCH collection": {
    method: "PATCH",
    path: collectionPath,
    params: inCollection,
    body: { schema: UpdateCollectionBody, valid: { description: "d", tags: ["t"] } },
  },
  "GET collection versions": { method: "GET", path: `${collectionPath}/versions`, params: inCollection },
  "POST link": {
    method: "POST",
    path: `${collectionPath}/versions`,
    params: inCollection,
    body: { schema: LinkBody, valid: { project: "fz", ref: "ds", aliases: ["staging"], move: true } },
  },
  "DELETE link": {
    method: "DELETE",
    path: `${collectionPath}/versions/:version`,
    params: { ...inCollection, version: { schema: CollectionVersionSelector, valid: "v999" } },
  },
  "PUT version aliases": {
    method: "PUT",
    path: `${collectionPath}/versions/:version/aliases`,
    params: { ...inCollection, version: { schema: CollectionVersionSelector, valid: "v0" } },
    body: { schema: SetVersionAliasesBody, valid: { aliases: ["staging"], move: true } },
  },
  "PUT collection alias": {
    method: "PUT",
    path: `${collectionPath}/aliases/:alias`,
    params: { ...inCollection, alias: { schema: AliasName, valid: "staging" } },
    body: { schema: SetCollectionAliasBody, valid: { version: "v0", move: true } },
  },
  "DELETE collection alias": {
    method: "DELETE",
    path: `${collectionPath}/aliases/:alias`,
    params: { ...inCollection, alias: { schema: AliasName, valid: "gone" } },
  },
  "GET history": {
    method: "GET",
    path: `${collectionPath}/history`,
    params: inCollection,
    query: {
      schema: HistoryQuery,
      valid: { limit: "10", action: "version_linked", actor: "admin", version: "v0", from: MIN_TIMESTAMP },
      extra: { cursor: historyCursors },
    },
  },
  "GET history verify": { method: "GET", path: `${collectionPath}/history/verify`, params: inCollection },
  "GET registry members": {
    method: "GET",
    path: "/registries/:registry/members",
    params: { registry: registryParam },
  },
  "PUT registry member": {
    method: "PUT",
    path: "/registries/:registry/members/:user",
    params: { registry: registryParam, user: { schema: UserName, valid: "someone" } },
    body: { schema: SetMemberBody, valid: { role: "viewer" } },
  },
  "DELETE registry member": {
    method: "DELETE",
    path: "/registries/:registry/members/:user",
    params: { registry: registryParam, user: { schema: UserName, valid: "nobody" } },
  },
  "PUT blob": {
    method: "PUT",
    path: "/blobs/:sha256",
    params: { sha256: { schema: Sha256, valid: sha256("never uploaded") } },
  },
  "POST blob direct": {
    method: "POST",
    path: "/blobs/:sha256/direct",
    params: { sha256: { schema: Sha256, valid: sha256("never uploaded") } },
    body: { schema: CompleteDirectUploadBody, valid: { upload: "6f1c3a52-59b1-4d3e-9a3b-2b1e0d7c9f10" } },
  },
};

interface BoundaryAttempt {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The field the value was put in (`manifest.0.size`, `cursor`, `runId`), and why the value. */
  field: string;
  why: string;
  /** Whether the protocol schemas refuse the request (then it must be a 400 naming `field`). */
  refused: boolean;
}

const queryText = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** Each input of a route in turn at each of its boundary values, the others valid. */
function boundaryAttempts(spec: RouteSpec): BoundaryAttempt[] {
  const params = Object.fromEntries(Object.entries(spec.params ?? {}).map(([name, param]) => [name, param.valid]));
  const query = spec.query?.valid ?? {};
  const body = spec.body?.valid;
  const make = (
    change: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown },
    field: string,
    why: string,
  ): BoundaryAttempt => {
    const path = { ...params, ...change.params };
    const search = change.query ?? query;
    const content = "body" in change ? change.body : body;
    const refused =
      Object.entries(spec.params ?? {}).some(
        ([name, param]) => param.valid !== "existing" && !param.schema.safeParse(path[name]).success,
      ) ||
      (spec.query !== undefined && !spec.query.schema.safeParse(search).success) ||
      (spec.body !== undefined && !spec.body.schema.safeParse(content).success);
    return {
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, (_, name: string) =>
        encodeURIComponent(path[name] === "existing" ? versionId : (path[name] ?? "")),
      ),
      query: search,
      body: content,
      field,
      why,
      refused,
    };
  };
  const out: BoundaryAttempt[] = [];
  for (const [name, param] of Object.entries(spec.params ?? {})) {
    for (const { value, why } of boundaryValues(jsonSchemaOf(param.schema), "text")) {
      // An empty segment is another URL (answered 404 naming the path), not a value of the parameter.
      if (value === "") continue;
      out.push(make({ params: { [name]: queryText(value) } }, name, why));
    }
  }
  if (spec.query) {
    const schema = jsonSchemaOf(spec.query.schema);
    for (const { path, node } of fieldsOf(schema)) {
      const key = String(path[0]);
      const extra = spec.query.extra?.[key] ?? [];
      for (const { value, why } of [...boundaryValues(node, "text"), ...extra]) {
        out.push(make({ query: { ...query, [key]: queryText(value) } }, key, why));
      }
      if (schema.required?.includes(key)) {
        const { [key]: _, ...rest } = query;
        out.push(make({ query: rest }, key, `${key} missing`));
      }
    }
    out.push(make({ query: { ...query, unexpected: "1" } }, "unexpected", "an extra parameter"));
  }
  if (spec.body && body) {
    const schema = jsonSchemaOf(spec.body.schema);
    for (const { path, node } of fieldsOf(schema)) {
      for (const { value, why } of [...boundaryValues(node, "body"), { value: undefined, why: "missing" }]) {
        out.push(make({ body: withValue(body, path, value) }, path.join("."), why));
      }
    }
    for (const { value, why, field } of objectVariants(schema, body)) out.push(make({ body: value }, field, why));
  }
  return out;
}

async function sendBoundary(attempt: BoundaryAttempt) {
  const search = new URLSearchParams(attempt.query).toString();
  const body = attempt.method === "PUT" && attempt.path.startsWith("/blobs/") ? "bytes" : JSON.stringify(attempt.body);
  const response = await fetch(`${server.url}/api/v1${attempt.path}${search ? `?${search}` : ""}`, {
    method: attempt.method,
    headers: {
      authorization: `Bearer ${server.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined || attempt.method === "GET" ? {} : { body }),
  });
  inputsTried++;
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    text: await response.text(),
  };
}

/**
 * Whether the database is unchanged since the last request that succeeded: the digest is taken around
 * each write the schemas let through (the server may still refuse it) and compared after each refusal, so
 * a refused request that wrote anything is named.
 */
const changes = {
  baseline: undefined as Record<string, string> | undefined,
  since: [] as string[],
  async expectUnchanged(where: string) {
    const now = await databaseDigest();
    expect(now, `a refused request changed the database: ${this.since.join("; ")}; ${where}`).toEqual(this.baseline);
    this.since = [];
  },
};

describe("fuzz: boundary values from the schemas at every route", () => {
  let boundaryRequests = 0;
  beforeAll(async () => {
    changes.baseline = await databaseDigest();
  });

  it.each(Object.entries(routeSpecs))(
    "%s: boundary values answer no 500, and a refused value is a 400 naming its field",
    async (_, spec) => {
      for (const attempt of boundaryAttempts(spec)) {
        const mayWrite = attempt.method !== "GET" && !attempt.refused;
        // Whatever refused writes came before, they changed nothing: checked before one that may.
        if (mayWrite && changes.since.length > 0) await changes.expectUnchanged("before a write the schemas allow");
        const response = await sendBoundary(attempt);
        boundaryRequests++;
        const where = `${attempt.method} ${attempt.path}?${new URLSearchParams(attempt.query)} [${attempt.field}: ${attempt.why}] ${JSON.stringify(attempt.body)?.slice(0, 200)} -> ${response.status} ${response.text.slice(0, 300)}`;
        expect(response.status, where).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.contentType, where).toContain("application/json");
          const error = JSON.parse(response.text).error;
          expect(typeof error.message, where).toBe("string");
          expect(error.field, where).toEqual(expect.any(String));
          if (attempt.refused) {
            // The field itself, or the list entry or object holding it (a union names its position).
            const field = attempt.field || "body";
            expect(response.status, where).toBe(400);
            expect(field.startsWith(error.field) || error.field.startsWith(field), where).toBe(true);
          }
        } else {
          expect(attempt.refused, where).toBe(false);
        }
        if (attempt.method === "GET") continue;
        if (response.status >= 400) {
          changes.since.push(where.slice(0, 200));
          if (mayWrite) await changes.expectUnchanged(where);
        } else {
          changes.baseline = await databaseDigest();
        }
      }
    },
    120_000,
  );

  it("left the database as its accepted requests made it", async () => {
    await changes.expectUnchanged("at the end");
    console.log(`fuzz: ${boundaryRequests} boundary requests over ${Object.keys(routeSpecs).length} routes`);
  });
});
