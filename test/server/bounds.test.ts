import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logVersion } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Input that looks valid but holds a number, a date or a cursor the database cannot store: each was a 500
 * (PostgreSQL refused the value inside the query). Each is now a 400 naming the field, before any SQL runs.
 */
let server: TestServer;
const RUN_ID = "boundrun";
const cursorOf = (text: string) => Buffer.from(text).toString("base64url");

beforeAll(async () => {
  server = await startTestServer();
  await server.api("POST", "/projects/bd/runs", { id: RUN_ID, jobType: "training" });
  await logVersion(server, "bd", { name: "ds", type: "dataset", content: "rows" });
  await server.api("POST", "/registries", { name: "model" });
  const linked = await server.api("POST", "/registries/model/collections/clf/versions", { project: "bd", ref: "ds" });
  if (linked.status !== 201) throw new Error(JSON.stringify(linked.body));
});
afterAll(() => server.close());

interface Case {
  method: string;
  path: string;
  body?: unknown;
  field: string;
}

/** The 17 requests of issue 9 "500s on valid-looking input", and their field. */
const cases: Record<string, Case> = {
  "a ref's vN above 2^31": { method: "GET", path: "/projects/bd/versions?ref=ds:v4294967296", field: "ref" },
  "a registry ref's vN above 2^31": {
    method: "GET",
    path: "/projects/bd/versions?ref=model/clf:v4294967296",
    field: "ref",
  },
  "a run input's ref vN above 2^31": {
    method: "POST",
    path: `/projects/bd/runs/${RUN_ID}/inputs`,
    body: { ref: "ds:v4294967296" },
    field: "ref",
  },
  "a link's ref vN above 2^31": {
    method: "POST",
    path: "/registries/model/collections/clf/versions",
    body: { project: "bd", ref: "ds:v4294967296" },
    field: "ref",
  },
  "a lineage node vN above 2^31": { method: "GET", path: "/projects/bd/lineage?node=ds:v4294967296", field: "node" },
  "an impact node vN above 2^31": { method: "GET", path: "/projects/bd/impact?node=ds:v4294967296", field: "node" },
  "a lineage path end vN above 2^31": {
    method: "GET",
    path: "/projects/bd/lineage/path?from=ds:v4294967296&to=ds",
    field: "from",
  },
  "unlinking a collection vN above 2^31": {
    method: "DELETE",
    path: "/registries/model/collections/clf/versions/v99999999999",
    field: "version",
  },
  "setting the aliases of a collection vN above 2^31": {
    method: "PUT",
    path: "/registries/model/collections/clf/versions/v99999999999/aliases",
    body: { aliases: ["best"] },
    field: "version",
  },
  "an artifact alias body's vN above 2^31": {
    method: "PUT",
    path: "/projects/bd/artifacts/ds/aliases/best",
    body: { version: "v4294967296" },
    field: "version",
  },
  "a collection alias body's vN above 2^31": {
    method: "PUT",
    path: "/registries/model/collections/clf/aliases/staging",
    body: { version: "v4294967296" },
    field: "version",
  },
  "history version= above 2^31": {
    method: "GET",
    path: "/registries/model/collections/clf/history?version=v4294967296",
    field: "version",
  },
  "lineage asOf in year 0": {
    method: "GET",
    path: "/projects/bd/lineage?node=ds&asOf=0000-01-01T00:00:00Z",
    field: "asOf",
  },
  "a run input's usedAt in year 0": {
    method: "POST",
    path: `/projects/bd/runs/${RUN_ID}/inputs`,
    body: { ref: "ds", usedAt: "0000-01-01T00:00:00Z" },
    field: "usedAt",
  },
  "history from in year 0": {
    method: "GET",
    path: "/registries/model/collections/clf/history?from=0000-01-01T00:00:00Z",
    field: "from",
  },
  "a malformed history cursor": {
    method: "GET",
    path: `/registries/model/collections/clf/history?cursor=${cursorOf("2026-01-01T00:00:00.000Z|99999999999999999999")}`,
    field: "cursor",
  },
  "manifest sizes whose sum overflows int8": {
    method: "POST",
    path: "/projects/bd/versions",
    body: {
      name: "huge",
      type: "dataset",
      manifest: Array.from({ length: 1100 }, (_, index) => ({
        path: `part-${index}`,
        uri: `s3://bucket/part-${index}`,
        size: Number.MAX_SAFE_INTEGER,
      })),
    },
    field: "manifest",
  },
};

/** Found while bounding every schema: more of the same kinds. */
const more: Record<string, Case> = {
  "a vN of 400 digits (Infinity as a number)": {
    method: "DELETE",
    path: `/registries/model/collections/clf/versions/v${"9".repeat(400)}`,
    field: "version",
  },
  "impact asOf in year 0": {
    method: "GET",
    path: "/projects/bd/impact?node=ds&asOf=0000-01-01T00:00:00Z",
    field: "asOf",
  },
  "lineage path asOf in year 0": {
    method: "GET",
    path: "/projects/bd/lineage/path?from=ds&to=ds&asOf=0000-01-01T00:00:00Z",
    field: "asOf",
  },
  "an asOf that is year 0 in UTC": {
    method: "GET",
    path: `/projects/bd/lineage?node=ds&asOf=${encodeURIComponent("0001-01-01T00:00:00+01:00")}`,
    field: "asOf",
  },
  "an asOf that is year 10000 in UTC": {
    method: "GET",
    path: `/projects/bd/lineage?node=ds&asOf=${encodeURIComponent("9999-12-31T23:30:00-01:00")}`,
    field: "asOf",
  },
  "history to in year 0": {
    method: "GET",
    path: "/registries/model/collections/clf/history?to=0000-01-01T00:00:00Z",
    field: "to",
  },
  "a history cursor in year 0": {
    method: "GET",
    path: `/registries/model/collections/clf/history?cursor=${cursorOf("0000-01-01T00:00:00.000Z|1")}`,
    field: "cursor",
  },
  "a history cursor in year 275760": {
    method: "GET",
    path: `/registries/model/collections/clf/history?cursor=${cursorOf("+275760-09-13T00:00:00.000Z|1")}`,
    field: "cursor",
  },
  "a key expiring in year 10000 (UTC)": {
    method: "POST",
    path: "/keys",
    body: { name: "distant", expiresAt: "9999-12-31T23:30:00-01:00" },
    field: "expiresAt",
  },
  "a new user's key expiring in year 0": {
    method: "POST",
    path: "/users",
    body: { name: "ancient", key: { expiresAt: "0000-01-01T00:00:00Z" } },
    field: "key.expiresAt",
  },
};

async function send({ method, path, body }: Case) {
  return server.api(method, path, body);
}

describe("bounds: the 500s of issue 9 answer 400 naming the field", () => {
  it.each(Object.entries(cases))("%s", async (_, request) => {
    const response = await send(request);
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BAD_REQUEST", field: request.field });
  });
});

describe("bounds: more values the database cannot store", () => {
  it.each(Object.entries(more))("%s", async (_, request) => {
    const response = await send(request);
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BAD_REQUEST", field: request.field });
  });
});

describe("bounds: the largest and smallest storable values are accepted", () => {
  it("looks up v2147483647 and answers 404 naming the ref", async () => {
    const response = await server.api("GET", "/projects/bd/versions?ref=ds:v2147483647");
    expect(response.status).toBe(404);
    expect(response.body.error.field).toBe("ref");
  });

  it("reads lineage as of year 1 and as of the end of year 9999", async () => {
    const early = await server.api("GET", "/projects/bd/lineage?node=ds&asOf=0001-01-01T00:00:00Z");
    expect(early.status, JSON.stringify(early.body)).toBe(404);
    expect(early.body.error.field).toBe("node");
    const late = await server.api("GET", "/projects/bd/lineage?node=ds&asOf=9999-12-31T23:59:59.999Z");
    expect(late.status, JSON.stringify(late.body)).toBe(200);
    expect(late.body.nodes.map((node: { kind: string }) => node.kind)).toEqual(["version"]);
  });

  it("stores a key expiring at the last storable instant and reads it back unchanged", async () => {
    const created = await server.api("POST", "/keys", { name: "last", expiresAt: "9999-12-31T23:59:59.999Z" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const listed = await server.api("GET", "/keys");
    const key = listed.body.keys.find((item: { id: string }) => item.id === created.body.key.id);
    expect(key.expiresAt).toBe("9999-12-31T23:59:59.999Z");
  });

  it("filters history by the widest storable range", async () => {
    const response = await server.api(
      "GET",
      "/registries/model/collections/clf/history?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z&version=v0",
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.events.map((event: { action: string }) => event.action)).toEqual(["version_linked"]);
  });
});
