import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunEvent } from "@pedigree/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabaseUrl, startTestServer, testDatabaseKind } from "../fixtures/server";
import { startServerProcess } from "../fixtures/server-process";

/** A real OpenLineage consumer: records what it is sent; answers 503 while `down`, or never while `hang`. */
interface Consumer {
  url: string;
  mode: "up" | "down" | "hang";
  received: { authorization: string | undefined; event: RunEvent }[];
  attempts: number;
  close(): Promise<void>;
}

async function startConsumer(mode: Consumer["mode"]): Promise<Consumer> {
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const consumer = { mode, received: [], attempts: 0 } as unknown as Consumer;
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    consumer.attempts++;
    if (request.url !== "/api/v1/lineage") return response.writeHead(404).end();
    if (consumer.mode === "hang") return;
    if (consumer.mode === "down") return response.writeHead(503).end();
    consumer.received.push({ authorization: request.headers.authorization, event: RunEvent.parse(JSON.parse(body)) });
    response.writeHead(201, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  consumer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  consumer.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return consumer;
}

async function until(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const call = async (url: string, key: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe("openlineage outbox: delivery across a killed server", () => {
  let dir: string;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let consumer: Consumer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pedigree-outbox-"));
    database = testDatabaseKind() === "postgres" ? await createTestDatabaseUrl() : undefined;
    consumer = await startConsumer("down");
  });
  afterAll(async () => {
    await consumer.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends each event of a run at least once, with the run's runId, after a SIGKILL and a restart", async () => {
    const apiKey = "pdg_outbox-test-admin-key-0123456789";
    const options = {
      dir,
      databaseUrl: database?.url,
      apiKey,
      env: { PEDIGREE_OPENLINEAGE_URL: consumer.url, PEDIGREE_OPENLINEAGE_API_KEY: "consumer-key" },
    };
    const first = await startServerProcess(options);
    const created = await call(first.url, apiKey, "POST", "/projects/outbox/runs", { jobType: "training" });
    expect(created.status).toBe(201);
    const run = created.body as { id: string; name: string };
    expect(
      (await call(first.url, apiKey, "PATCH", `/projects/outbox/runs/${run.id}`, { state: "finished" })).status,
    ).toBe(200);
    // The server has tried (the consumer is down) but delivered nothing when it dies.
    await until(() => consumer.attempts >= 1, 15_000, "a first delivery attempt");
    await first.kill();
    expect(consumer.received).toEqual([]);

    consumer.mode = "up";
    const second = await startServerProcess(options);
    try {
      await until(
        () => new Set(consumer.received.map(({ event }) => event.eventType)).size === 2,
        45_000,
        "START and COMPLETE",
      );
      const exported = await call(second.url, apiKey, "GET", `/projects/outbox/runs/${run.id}/openlineage`);
      const runId = (exported.body.events as RunEvent[])[0]?.run.runId;
      expect(runId).toMatch(/^[0-9a-f-]{36}$/);
      expect(consumer.received.map(({ event }) => event.run.runId)).toEqual(consumer.received.map(() => runId));
      expect([...new Set(consumer.received.map(({ event }) => event.eventType))].sort()).toEqual(["COMPLETE", "START"]);
      expect(consumer.received[0]?.authorization).toBe("Bearer consumer-key");
      const complete = consumer.received.find(({ event }) => event.eventType === "COMPLETE")?.event;
      expect(complete?.job.name).toBe(run.name);
    } finally {
      await second.stop();
    }
  });
});

describe("openlineage outbox: in one process", () => {
  it("never holds a request up, even when the consumer never answers", async () => {
    const consumer = await startConsumer("hang");
    const server = await startTestServer({ config: { openlineageUrl: consumer.url } });
    try {
      const timed = async (work: () => Promise<unknown>) => {
        const started = Date.now();
        await work();
        return Date.now() - started;
      };
      const durations: number[] = [];
      for (let index = 0; index < 5; index++) {
        let runId = "";
        durations.push(
          await timed(async () => {
            runId = (await server.api("POST", "/projects/hang/runs", { jobType: "training" })).body.id;
          }),
        );
        durations.push(await timed(() => server.api("PATCH", `/projects/hang/runs/${runId}`, { state: "failed" })));
      }
      await until(() => consumer.attempts >= 1, 10_000, "a delivery attempt");
      // Deliveries are stuck on the consumer; requests go on as before.
      durations.push(await timed(() => server.api("POST", "/projects/hang/runs", { jobType: "training" })));
      expect(Math.max(...durations)).toBeLessThan(2_000);
    } finally {
      await server.close();
      await consumer.close();
    }
  });

  it("retries with backoff until the consumer takes the events", async () => {
    const consumer = await startConsumer("down");
    const server = await startTestServer({ config: { openlineageUrl: consumer.url } });
    try {
      const run = await server.api("POST", "/projects/retry/runs", { jobType: "eval" });
      await server.api("PATCH", `/projects/retry/runs/${run.body.id}`, { state: "failed" });
      await until(() => consumer.attempts >= 3, 20_000, "three attempts");
      consumer.mode = "up";
      await until(() => consumer.received.length >= 2, 30_000, "both events");
      expect(consumer.received.map(({ event }) => event.eventType).sort()).toEqual(["FAIL", "START"]);
    } finally {
      await server.close();
      await consumer.close();
    }
  });
});
