import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthError, NotFoundError, Pedigree, PedigreeError, ValidationError } from "@pedigree/sdk";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

const baseUrl = "http://pedigree.test";
const runSummary = {
  id: "abcd1234",
  project: "zoo",
  name: "calm-dust-1",
  jobType: "training",
  state: "running",
  tags: [],
  createdBy: "u_1",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: null,
  heartbeatAt: "2026-01-01T00:00:00.000Z",
};
const mock = setupServer();
beforeAll(() => mock.listen({ onUnhandledRequest: "error" }));
afterEach(() => mock.resetHandlers());
afterAll(() => mock.close());

let pedigreeDir: string;
beforeEach(async () => {
  pedigreeDir = await mkdtemp(join(tmpdir(), "pedigree-unit-"));
});
const client = (retries = 3) =>
  new Pedigree({ baseUrl, apiKey: "pdg_test", project: "zoo", retries, timeoutMs: 2_000, pedigreeDir });
const createdRun = () => HttpResponse.json(runSummary, { status: 201 });

describe("sdk http: retries and failures", () => {
  // Writes are idempotent by construction (client run ids, content digests, unique edges): no header is needed.
  it("retries a 503 and succeeds, sending no Idempotency-Key the server would not read", async () => {
    const keys: (string | null)[] = [];
    mock.use(
      http.post(`${baseUrl}/api/v1/projects/zoo/runs`, ({ request }) => {
        keys.push(request.headers.get("idempotency-key"));
        if (keys.length < 3)
          return HttpResponse.json({ error: { code: "INTERNAL", message: "busy" } }, { status: 503 });
        return createdRun();
      }),
      http.patch(`${baseUrl}/api/v1/projects/zoo/runs/:id`, () =>
        HttpResponse.json({ ...runSummary, state: "finished" }),
      ),
    );
    const run = await client().init({ jobType: "training" });
    expect(run.name).toBe("calm-dust-1");
    expect(keys).toEqual([null, null, null]);
    await run.finish();
  });

  it("sends the same client run id on every retry so a lost response never makes two runs", async () => {
    const ids: string[] = [];
    mock.use(
      http.post(`${baseUrl}/api/v1/projects/zoo/runs`, async ({ request }) => {
        ids.push((JSON.parse(await request.text()) as { id: string }).id);
        if (ids.length === 1) return HttpResponse.error();
        return createdRun();
      }),
      http.patch(`${baseUrl}/api/v1/projects/zoo/runs/:id`, () =>
        HttpResponse.json({ ...runSummary, state: "finished" }),
      ),
    );
    await (await client().init({ jobType: "training" })).finish();
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^[a-z0-9]{8}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it("does not retry a 4xx and turns it into a typed error with code, status and field", async () => {
    let calls = 0;
    mock.use(
      http.get(`${baseUrl}/api/v1/projects/zoo/versions`, () => {
        calls++;
        return HttpResponse.json(
          { error: { code: "NOT_FOUND", message: "version 'x:v9' was not found", field: "ref" } },
          { status: 404 },
        );
      }),
    );
    const error = await client()
      .artifact("x:v9")
      .catch((caught: unknown) => caught);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      code: "NOT_FOUND",
      status: 404,
      field: "ref",
      message: "version 'x:v9' was not found",
    });
  });

  it("maps 401 to AuthError and 400 to ValidationError", async () => {
    mock.use(
      http.get(`${baseUrl}/api/v1/me`, () =>
        HttpResponse.json({ error: { code: "UNAUTHORIZED", message: "bad key" } }, { status: 401 }),
      ),
      http.get(`${baseUrl}/api/v1/projects`, () =>
        HttpResponse.json({ error: { code: "BAD_REQUEST", message: "limit", field: "limit" } }, { status: 400 }),
      ),
    );
    await expect(client().whoami()).rejects.toBeInstanceOf(AuthError);
    await expect(client().projects()).rejects.toBeInstanceOf(ValidationError);
  });

  it("gives up after the configured retries with a NETWORK error", async () => {
    let calls = 0;
    mock.use(
      http.get(`${baseUrl}/api/v1/me`, () => {
        calls++;
        return HttpResponse.error();
      }),
    );
    const error = await client(2)
      .whoami()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PedigreeError);
    expect(error).toMatchObject({ code: "NETWORK", status: undefined });
    expect(calls).toBe(3);
  });

  it("asks for a project instead of guessing one", async () => {
    const pd = new Pedigree({ baseUrl, apiKey: "pdg_test" });
    await expect(pd.init({ jobType: "training" })).rejects.toMatchObject({ field: "project" });
  });
});
