import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryVerification } from "../../packages/protocol/src";
import { sql } from "../../packages/server/src/db/client";
import { eventHash } from "../../packages/server/src/registry/history";
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

describe("registry: replay and checkpoints", () => {
  const verify = async (collection: string, query = "") => {
    const response = await server.api("GET", `/registries/model/collections/${collection}/history/verify${query}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as HistoryVerification;
  };
  const sinceQuery = (checkpoint: { seq: number; hash: string }) =>
    `?sinceSeq=${checkpoint.seq}&sinceHash=${checkpoint.hash}`;
  const link = async (collection: string, ref: string, aliases: string[] = []) => {
    const linked = await server.api("POST", `/registries/model/collections/${collection}/versions`, {
      project: "hist",
      ref,
      aliases,
    });
    expect(linked.status).toBe(201);
  };

  it("answers the head to keep as a checkpoint, and proves the chain extends it after more changes", async () => {
    await link("kept", "net:v0");
    const first = await verify("kept");
    expect(first).toMatchObject({ ok: true, firstBroken: null, stateDifferences: [], since: null });
    expect(first.head).toEqual({ seq: 2, hash: first.headHash });
    await link("kept", "net:v1", ["staging"]);
    const later = await verify("kept", sinceQuery(first.head));
    expect(later).toMatchObject({ ok: true, eventCount: 4, since: { seq: 2, hash: first.headHash, inChain: true } });
  });

  it("catches an alias row moved behind the server's back by replaying the events", async () => {
    await link("moved", "net:v0");
    await link("moved", "net:v1", ["production"]);
    expect(await verify("moved")).toMatchObject({ ok: true, stateDifferences: [] });
    await tamper(sql`
      update collection_aliases set membership_id = (
        select m.id from collection_memberships m join collections c on c.id = m.collection_id
        where c.name = 'moved' and m.index = 0)
      where alias = 'production' and collection_id = (select id from collections where name = 'moved')`);
    const verification = await verify("moved");
    expect(verification).toMatchObject({ ok: false, firstBroken: null });
    expect(verification.stateDifferences).toEqual([
      {
        kind: "alias",
        name: "production",
        history: "v1",
        current: "v0",
        message: "alias 'production': the history puts it on v1, the collection on v0",
      },
    ]);
  });

  it("catches a link unlinked or added behind the server's back", async () => {
    await link("links", "net:v0");
    const [source] = (await server.api("GET", "/registries/model/collections/links/versions")).body.versions;
    await tamper(sql`
      update collection_memberships set unlinked_at = now()
      where collection_id = (select id from collections where name = 'links') and index = 0`);
    const verification = await verify("links");
    expect(verification.ok).toBe(false);
    expect(verification.stateDifferences).toEqual([
      expect.objectContaining({
        kind: "link",
        name: "v0",
        history: `linked ${source.source.id}`,
        current: `unlinked ${source.source.id}`,
      }),
    ]);
  });

  it("catches a cut tail, head rewritten to match, for a client that kept a checkpoint", async () => {
    await link("cut", "net:v0");
    await link("cut", "net:v1", ["production"]); // seq 3 version_linked, 4 alias_added
    const kept = (await verify("cut")).head;
    const early = { seq: 2, hash: (await historyOf(server, "model/collections/cut"))[1]!.hash };
    expect(kept.seq).toBe(4);
    // The database owner removes the last event, the state it made, and moves the head back: consistent.
    const events = await historyOf(server, "model/collections/cut");
    await tamper(sql`delete from history_events where id = ${Number(events[3]!.id)}`);
    await tamper(sql`
      delete from collection_aliases where alias = 'production'
      and collection_id = (select id from collections where name = 'cut')`);
    await tamper(sql`update collections set event_count = 3, head_hash = ${events[2]!.hash} where name = 'cut'`);
    // Without a checkpoint nothing can tell.
    expect(await verify("cut")).toMatchObject({ ok: true, eventCount: 3, stateDifferences: [] });
    const caught = await verify("cut", sinceQuery(kept));
    expect(caught).toMatchObject({
      ok: false,
      firstBroken: null,
      since: {
        seq: 4,
        hash: kept.hash,
        inChain: false,
        reason: "the chain ends at event 3: event 4 of the checkpoint was cut off",
      },
    });
    // A checkpoint from before the cut is still in the chain.
    expect(await verify("cut", sinceQuery(early))).toMatchObject({ ok: true, since: { seq: 2, inChain: true } });
  });

  it("catches a chain rewritten consistently before a client's checkpoint", async () => {
    await link("rewritten", "net:v0");
    await link("rewritten", "net:v1");
    const kept = (await verify("rewritten")).head;
    // Event 2 gets another actor; every hash from there on and the head are recomputed to match.
    const events = await historyOf(server, "model/collections/rewritten");
    let prevHash = events[0]!.hash;
    for (const event of events.slice(1)) {
      const { hash: _old, ...rest } = event;
      const forged = { ...rest, actor: event.seq === 2 ? "mallory" : event.actor, prevHash };
      const hash = eventHash(forged);
      await tamper(sql`
        update history_events set actor_name = ${forged.actor}, prev_hash = ${prevHash}, hash = ${hash}
        where id = ${Number(event.id)}`);
      prevHash = hash;
    }
    await tamper(sql`update collections set head_hash = ${prevHash} where name = 'rewritten'`);
    expect(await verify("rewritten")).toMatchObject({ ok: true, firstBroken: null });
    expect(await verify("rewritten", sinceQuery(kept))).toMatchObject({
      ok: false,
      since: { seq: kept.seq, inChain: false, reason: expect.stringContaining("was rewritten") },
    });
  });

  it("answers 400 for half a checkpoint or a seq past what the database stores", async () => {
    const half = await server.api("GET", "/registries/model/collections/kept/history/verify?sinceSeq=2");
    expect(half.status).toBe(400);
    expect(half.body.error.field).toBe("sinceHash");
    const huge = await server.api(
      "GET",
      `/registries/model/collections/kept/history/verify?sinceSeq=4294967296&sinceHash=${"a".repeat(64)}`,
    );
    expect(huge.status).toBe(400);
    expect(huge.body.error.field).toBe("sinceSeq");
  });
});
