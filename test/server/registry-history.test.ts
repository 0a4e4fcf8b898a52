import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../packages/server/src/db/client";
import { createMember, historyOf, logVersion } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
let memberKey: string;
let now = new Date("2026-03-01T10:00:00.000Z");
const at = (iso: string) => {
  now = new Date(iso);
};

beforeAll(async () => {
  server = await startTestServer({ clock: { now: () => now } });
  memberKey = await createMember(server, "carol");
  await server.api("POST", "/registries", { name: "model" });
  for (let index = 0; index < 3; index++) {
    await logVersion(server, "hist", { name: "net", type: "model", content: `net-${index}` });
  }
  await server.api("PUT", "/registries/model/members/carol", { role: "member" });
  await server.api("PUT", "/projects/hist/members/carol", { role: "viewer" });
  // seq 1 collection_created, 2 version_linked v0 (10:00)
  await server.api("POST", "/registries/model/collections/clf/versions", { project: "hist", ref: "net:v0" });
  at("2026-03-01T11:00:00.000Z"); // seq 3 version_linked v1, 4 alias_added staging v1 (carol)
  await server.api(
    "POST",
    "/registries/model/collections/clf/versions",
    { project: "hist", ref: "net:v1", aliases: ["staging"] },
    memberKey,
  );
  at("2026-03-01T12:00:00.000Z"); // seq 5 alias_removed staging v1, 6 alias_added staging v0
  await server.api("PUT", "/registries/model/collections/clf/aliases/staging", { version: "v0" });
  at("2026-03-01T13:00:00.000Z"); // seq 7 tags_changed
  await server.api("PATCH", "/registries/model/collections/clf", { tags: ["prod-ready"] });
});
afterAll(() => server.close());

const list = async (query: string) => {
  const response = await server.api("GET", `/registries/model/collections/clf/history${query}`);
  expect(response.status).toBe(200);
  return response.body;
};
const seqs = async (query: string) => (await list(query)).events.map((event: { seq: number }) => event.seq);

/** Runs SQL on the server's database with triggers off, as a superuser tampering behind its back would. */
const tamper = (statement: ReturnType<typeof sql>) =>
  server.database.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(statement);
  });

describe("registry: action history listing", () => {
  it("lists newest first with actor, time, collection version, source version and alias", async () => {
    const page = await list("");
    expect(page.events.map((event: { seq: number }) => event.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(page.nextCursor).toBeNull();
    const added = page.events.find((event: { seq: number }) => event.seq === 4);
    expect(added).toMatchObject({
      registry: "model",
      collection: "clf",
      action: "alias_added",
      actor: "carol",
      at: "2026-03-01T11:00:00.000Z",
      version: "v1",
      sourceVersion: "net:v1",
      sourceProject: "hist",
      alias: "staging",
      details: null,
    });
    expect(added.sourceVersionId).toMatch(/^av_/);
    expect(added.hash).toMatch(/^[a-f0-9]{64}$/);
    expect(added.prevHash).toBe(page.events.find((event: { seq: number }) => event.seq === 3).hash);
  });

  it("filters by action, actor, collection version and time range", async () => {
    expect(await seqs("?action=alias_added")).toEqual([6, 4]);
    expect(await seqs("?action=alias_added,alias_removed")).toEqual([6, 5, 4]);
    expect(await seqs("?actor=carol")).toEqual([4, 3]);
    expect(await seqs("?version=v1")).toEqual([5, 4, 3]);
    expect(await seqs("?from=2026-03-01T11:00:00.000Z&to=2026-03-01T12:00:00.000Z")).toEqual([6, 5, 4, 3]);
    expect(await seqs("?action=alias_added&version=v0")).toEqual([6]);
  });

  it("pages with a cursor, events of the same instant ordered by id", async () => {
    const first = await list("?limit=3");
    expect(first.events.map((event: { seq: number }) => event.seq)).toEqual([7, 6, 5]);
    const second = await list(`?limit=3&cursor=${first.nextCursor}`);
    expect(second.events.map((event: { seq: number }) => event.seq)).toEqual([4, 3, 2]);
    const third = await list(`?limit=3&cursor=${second.nextCursor}`);
    expect(third.events.map((event: { seq: number }) => event.seq)).toEqual([1]);
    expect(third.nextCursor).toBeNull();
    expect(await seqs(`?limit=1&action=alias_added&cursor=${first.nextCursor}`)).toEqual([4]);
  });

  it("answers 400 naming the field for an unknown action or a bad cursor", async () => {
    const action = await server.api("GET", "/registries/model/collections/clf/history?action=renamed");
    expect(action.status).toBe(400);
    expect(action.body.error.field).toBe("action.0");
    const cursor = await server.api("GET", "/registries/model/collections/clf/history?cursor=nonsense");
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.field).toBe("cursor");
  });
});

describe("registry: tamper evidence", () => {
  it("refuses UPDATE, DELETE and TRUNCATE of events in the database itself", async () => {
    const attempts = [
      sql`update history_events set alias = 'production' where seq = 4`,
      sql`delete from history_events where seq = 7`,
      sql`truncate history_events`,
    ];
    for (const statement of attempts) {
      const failure = await server.database
        .transaction((tx) => tx.execute(statement))
        .then(
          () => "changed",
          (error: Error) => String((error.cause as Error | undefined)?.message ?? error.message),
        );
      expect(failure).toMatch(/^history_events is append-only: (UPDATE|DELETE|TRUNCATE) is refused$/);
    }
    expect((await historyOf(server, "model/collections/clf")).length).toBe(7);
  });

  it("verifies an intact chain", async () => {
    const verification = await server.api("GET", "/registries/model/collections/clf/history/verify");
    expect(verification.body).toMatchObject({
      registry: "model",
      collection: "clf",
      ok: true,
      eventCount: 7,
      firstBroken: null,
    });
  });

  it("names the first broken event when a row is changed behind the server's back", async () => {
    const events = await historyOf(server, "model/collections/clf");
    await tamper(sql`update history_events set alias = 'production' where id = ${Number(events[3]!.id)}`);
    const verification = await server.api("GET", "/registries/model/collections/clf/history/verify");
    expect(verification.body).toMatchObject({
      ok: false,
      firstBroken: { id: events[3]!.id, seq: 4, reason: "hash does not match the event's content" },
    });
    await tamper(sql`update history_events set alias = 'staging' where id = ${Number(events[3]!.id)}`);
    expect((await server.api("GET", "/registries/model/collections/clf/history/verify")).body.ok).toBe(true);
  });

  it("notices a re-hashed row through the next event's prevHash", async () => {
    const events = await historyOf(server, "model/collections/clf");
    await tamper(
      sql`update history_events set hash = ${"f".repeat(64)}, actor_name = 'mallory' where id = ${Number(events[1]!.id)}`,
    );
    const verification = await server.api("GET", "/registries/model/collections/clf/history/verify");
    expect(verification.body.firstBroken).toMatchObject({ id: events[1]!.id, seq: 2 });
  });

  it("notices a deleted event, in the middle or at the end", async () => {
    const chain = await server.api("POST", "/registries/model/collections", { name: "trim", type: "model" });
    expect(chain.status).toBe(201);
    for (const version of ["v0", "v1", "v2"]) {
      await server.api("POST", "/registries/model/collections/trim/versions", {
        project: "hist",
        ref: `net:${version}`,
      });
    }
    const events = await historyOf(server, "model/collections/trim");
    expect(events).toHaveLength(4);
    await tamper(sql`delete from history_events where id = ${Number(events[3]!.id)}`);
    const end = await server.api("GET", "/registries/model/collections/trim/history/verify");
    expect(end.body).toMatchObject({ ok: false, firstBroken: { id: null, seq: 4, reason: "event 4 is missing" } });
    await tamper(sql`delete from history_events where id = ${Number(events[1]!.id)}`);
    const middle = await server.api("GET", "/registries/model/collections/trim/history/verify");
    expect(middle.body).toMatchObject({
      ok: false,
      firstBroken: { id: events[2]!.id, seq: 2, reason: "event 2 is missing" },
    });
  });
});
