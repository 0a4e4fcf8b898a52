import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthError, NotFoundError, Pedigree, PedigreeError, syncSpool, ValidationError } from "@pedigree/sdk";
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
// Every server is healthy: the circuit's probe finds it back after a test made it unreachable.
const mock = setupServer(http.get("*/api/v1/health", () => HttpResponse.json({ status: "ok" })));
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

/** A second server, so the circuit the tests above opened for the first one plays no part here. */
const faultyUrl = "http://pedigree-faulty.test";
const faultyApi = `${faultyUrl}/api/v1`;
const now = new Date().toISOString();
const faultyRun = (id: string) => ({
  id,
  project: "p",
  name: `run-${id}`,
  jobType: "job",
  state: "running",
  tags: [],
  createdBy: "admin",
  startedAt: now,
  finishedAt: null,
  heartbeatAt: now,
});
const versionContents = (artifact: string) => ({
  id: "av_0123456789abcdef",
  project: "p",
  artifact,
  type: "dataset",
  version: "v0",
  state: "committed",
  aliases: ["latest"],
  digest: "a".repeat(64),
  size: 1,
  fileCount: 1,
  generated: false,
  description: null,
  createdAt: now,
  committedAt: now,
  metadata: {},
  manifest: [{ path: "a.csv", sha256: "b".repeat(64), size: 1 }],
});
const serverError = (message: string) => HttpResponse.json({ error: { code: "INTERNAL", message } }, { status: 500 });

/** A server that takes runs and their state, answers `inputs` with `answerInput`, and counts the inputs asked. */
function runServer(answerInput: (ref: string) => Response | Promise<Response>) {
  const asked: string[] = [];
  mock.use(
    http.post(`${faultyApi}/projects/p/runs`, async ({ request }) => {
      const body = (await request.json()) as { id: string };
      return HttpResponse.json(faultyRun(body.id), { status: 201 });
    }),
    http.patch(`${faultyApi}/projects/p/runs/:id`, ({ params }) => HttpResponse.json(faultyRun(String(params.id)))),
    http.post(`${faultyApi}/projects/p/runs/:id/inputs`, async ({ request }) => {
      const { ref } = (await request.json()) as { ref: string };
      asked.push(ref);
      return answerInput(ref);
    }),
  );
  return asked;
}

const faultyClient = (options: { retries?: number } = {}) =>
  new Pedigree({ baseUrl: faultyUrl, apiKey: "pdg_test", project: "p", pedigreeDir, maxBlockMs: 10_000, ...options });

describe("sdk http: a write the server answers with 5xx", () => {
  it("is retried a bounded number of times, then parked in rejected.jsonl while later writes go on", async () => {
    let broken = true;
    const asked = runServer((ref) =>
      ref === "poison" && broken ? serverError("cannot resolve 'poison'") : HttpResponse.json(versionContents(ref)),
    );
    const pd = faultyClient({ retries: 2 });
    const run = await pd.init();

    const started = Date.now();
    await expect(run.useArtifact("poison")).rejects.toMatchObject({
      status: 500,
      code: "INTERNAL",
      message: expect.stringMatching(
        /^the server answered 500 to POST \/projects\/p\/runs\/\w+\/inputs \(INTERNAL\): cannot resolve 'poison'.*is parked/,
      ),
    });
    expect(asked.filter((ref) => ref === "poison")).toHaveLength(3); // the first attempt and two retries
    expect(Date.now() - started).toBeLessThan(5_000);
    const fine = await run.useArtifact("fine");
    expect(fine.name).toBe("fine");
    const finished = await run.finish();
    expect(finished).toMatchObject({ queued: 0, rejected: 2 });

    // The run's end waits behind its parked input, so the edge can still be recorded.
    const parked = (await readFile(join(finished.spoolDir, "rejected.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(parked).toEqual([
      expect.objectContaining({
        op: expect.objectContaining({ kind: "useArtifact", body: expect.objectContaining({ ref: "poison" }) }),
        status: 500,
        reason: expect.stringContaining("the server answered 500"),
      }),
      expect.objectContaining({
        op: { kind: "updateRun", body: { state: "finished" } },
        heldBehind: parked[0].seq,
      }),
    ]);

    expect(await syncSpool({ pedigreeDir, apiKey: "pdg_test" })).toEqual([
      expect.objectContaining({
        sent: 0,
        left: 0,
        rejected: [expect.stringContaining("answered 500"), expect.anything()],
      }),
    ]);
    broken = false;
    expect(await syncSpool({ pedigreeDir, apiKey: "pdg_test", retryRejected: true })).toEqual([
      expect.objectContaining({ runId: run.id, sent: 2, left: 0, rejected: [] }),
    ]);
    expect(asked.slice(-1)).toEqual(["poison"]);
    expect(await syncSpool({ pedigreeDir, apiKey: "pdg_test" })).toEqual([]);
  });

  it("keeps a 429 or 503 with Retry-After queued, waits as told, and never parks it", async () => {
    const attempts: number[] = [];
    runServer(() => {
      attempts.push(Date.now());
      if (attempts.length === 1) {
        return HttpResponse.json(
          { error: { code: "INTERNAL", message: "maintenance" } },
          { status: 503, headers: { "retry-after": "1" } },
        );
      }
      if (attempts.length === 2) {
        return HttpResponse.json(
          { error: { code: "RATE_LIMITED", message: "slow down" } },
          { status: 429, headers: { "retry-after": "1" } },
        );
      }
      return HttpResponse.json(versionContents("data"));
    });
    const pd = faultyClient({ retries: 0 });
    const run = await pd.init();
    await expect(run.useArtifact("data")).resolves.toMatchObject({ name: "data" });
    expect(attempts).toHaveLength(3);
    expect((attempts[1] as number) - (attempts[0] as number)).toBeGreaterThanOrEqual(950);
    expect((attempts[2] as number) - (attempts[1] as number)).toBeGreaterThanOrEqual(950);
    expect(await run.finish()).toMatchObject({ queued: 0, rejected: 0 });
  });

  it("says what the server answered when a read keeps failing", async () => {
    let attempts = 0;
    mock.use(
      http.get(`${faultyApi}/me`, () => {
        attempts++;
        return new HttpResponse("upstream broke", { status: 502 });
      }),
    );
    await expect(faultyClient({ retries: 1 }).whoami()).rejects.toMatchObject({
      status: 502,
      message: "the server answered 502 to GET /me",
    });
    expect(attempts).toBe(2);
  });

  it("takes its number of retries from PEDIGREE_RETRIES when no option says", async () => {
    let attempts = 0;
    mock.use(
      http.get(`${faultyApi}/me`, () => {
        attempts++;
        return serverError("broken");
      }),
    );
    process.env.PEDIGREE_RETRIES = "1";
    try {
      const pd = new Pedigree({ baseUrl: faultyUrl, apiKey: "pdg_test", pedigreeDir });
      await expect(pd.whoami()).rejects.toMatchObject({
        status: 500,
        message: "the server answered 500 to GET /me (INTERNAL): broken",
      });
      expect(attempts).toBe(2);
      process.env.PEDIGREE_RETRIES = "many";
      expect(() => new Pedigree({ baseUrl: faultyUrl, pedigreeDir })).toThrow(/PEDIGREE_RETRIES/);
    } finally {
      delete process.env.PEDIGREE_RETRIES;
    }
  });
});
