import { createHash } from "node:crypto";
import { expireVersions, openPostgres } from "@pedigree/server";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember } from "../fixtures/registry";
import { createTestDatabaseUrl, startTestServer, type TestServer, testDatabaseKind } from "../fixtures/server";

const DAY = 86_400_000;
let clockOffsetMs = 0;
const now = () => new Date(Date.now() + clockOffsetMs);
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock: { now } });
});
afterAll(() => server.close());

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function logged(project: string, name: string, content: string, extra = {}, key?: string) {
  const response = await server.api(
    "POST",
    `/projects/${project}/versions`,
    {
      name,
      type: "dataset",
      manifest: [{ path: "data.txt", sha256: sha256(content), size: content.length }],
      inlineBlobs: { [sha256(content)]: Buffer.from(content).toString("base64") },
      ...extra,
    },
    key,
  );
  expect(response.status).toBe(201);
  return response.body.version as { id: string; version: string; expiresAt?: string };
}

/** Moves the server's clock on and runs its maintenance (expiry and garbage collection) as `pedigree gc` does. */
async function later(ms: number) {
  clockOffsetMs += ms;
  const gc = await server.api("POST", "/admin/gc");
  expect(gc.status).toBe(200);
  return gc.body as { expiredVersions: number };
}

describe("retention: ttl", () => {
  it("makes a version a tombstone once its ttl has passed, audited as expired", async () => {
    const kept = await logged("ret", "ttl", "kept");
    const short = await logged("ret", "ttl", "short", { ttl: "2d" });
    expect(Date.parse(short.expiresAt as string) - now().getTime()).toBeGreaterThan(2 * DAY - 60_000);
    expect(kept.expiresAt).toBeUndefined();

    expect((await later(DAY)).expiredVersions).toBe(0);
    expect((await server.api("GET", `/projects/ret/versions/${short.id}`)).body.deleted).toBeUndefined();
    expect((await later(1.5 * DAY)).expiredVersions).toBe(1);

    const expired = await server.api("GET", `/projects/ret/versions/${short.id}`);
    expect(expired.body).toMatchObject({ deleted: true, deletion: { reason: "expired", by: null }, manifest: [] });
    const download = await server.api("GET", `/projects/ret/versions/${short.id}/files?path=data.txt`);
    expect(download.status).toBe(410);
    expect(download.body.error.message).toContain("expired");
    expect((await server.api("GET", "/projects/ret/versions?ref=ttl")).body.id).toBe(kept.id);
    const audit = await server.api("GET", "/projects/ret/audit");
    expect(audit.body.events[0]).toMatchObject({ action: "version_expired", actor: null, target: short.id });
  });

  it("changes a version's ttl later (PATCH), or takes it away", async () => {
    const v = await logged("ret", "patched", "p0", { ttl: "1h" });
    const kept = await server.api("PATCH", `/projects/ret/versions/${v.id}`, { ttl: null });
    expect(kept.status).toBe(200);
    expect(kept.body.expiresAt).toBeUndefined();
    await later(2 * 3_600_000);
    expect((await server.api("GET", `/projects/ret/versions/${v.id}`)).body.deleted).toBeUndefined();

    const bad = await server.api("PATCH", `/projects/ret/versions/${v.id}`, { ttl: "soon" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("ttl");
    // Counted from when it was logged: a ttl of one second has passed already.
    const shortened = await server.api("PATCH", `/projects/ret/versions/${v.id}`, { ttl: "1s" });
    expect(shortened.body.expiresAt).toEqual(expect.any(String));
    await later(1000);
    expect((await server.api("GET", `/projects/ret/versions/${v.id}`)).body.deleted).toBe(true);
    expect((await server.api("PATCH", `/projects/ret/versions/${v.id}`, { ttl: "1d" })).status).toBe(410);
  });

  it("gives versions logged without a ttl the project's default, set by a project admin", async () => {
    const before = await logged("ret-default", "d", "d0");
    const member = await createMember(server, "ret-member");
    await server.api("PUT", "/projects/ret-default/members/ret-member", { role: "member" });
    const refused = await server.api("PATCH", "/projects/ret-default/settings", { defaultTtl: "1d" }, member);
    expect(refused.status).toBe(403);
    const set = await server.api("PATCH", "/projects/ret-default/settings", { defaultTtl: "1d" });
    expect(set.body).toEqual({ project: "ret-default", defaultTtlSeconds: 86_400 });
    expect((await server.api("GET", "/projects/ret-default/settings")).body.defaultTtlSeconds).toBe(86_400);
    const after = await logged("ret-default", "d", "d1");
    const own = await logged("ret-default", "d", "d2", { ttl: "30d" });
    await later(2 * DAY);
    const states = await Promise.all(
      [before, after, own].map(async (v) => (await server.api("GET", `/projects/ret-default/versions/${v.id}`)).body),
    );
    expect(states.map((v) => v.deleted ?? false)).toEqual([false, true, false]);
  });

  it("never expires a version linked in a registry", async () => {
    await server.api("POST", "/registries", { name: "ret-models" });
    const linked = await logged("ret", "linked", "l0", { ttl: "1h" });
    const unlinked = await logged("ret", "linked", "l1", { ttl: "1h" });
    const link = await server.api("POST", "/registries/ret-models/collections/c/versions", {
      project: "ret",
      ref: linked.id,
    });
    expect(link.status).toBe(201);
    await later(2 * 3_600_000);
    expect((await server.api("GET", `/projects/ret/versions/${linked.id}`)).body.deleted).toBeUndefined();
    expect((await server.api("GET", `/projects/ret/versions/${unlinked.id}`)).body.deleted).toBe(true);
    // Unlinked, it expires at the next sweep.
    await server.api("DELETE", "/registries/ret-models/collections/c/versions/v0");
    await later(1000);
    expect((await server.api("GET", `/projects/ret/versions/${linked.id}`)).body.deleted).toBe(true);
  });
});

describe("retention: one sweeper at a time", () => {
  it("expires each version once when sweeps run side by side", async () => {
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await logged("ret-race", `a${i % 3}`, `race${i}`, { ttl: "1h" })).id);
    clockOffsetMs += 2 * 3_600_000;
    const results = await Promise.all([1, 2, 3].map(() => expireVersions(server.database, now())));
    expect(results.reduce((total, result) => total + result.expired, 0)).toBe(12);
    const audit = await server.api("GET", "/projects/ret-race/audit?limit=1000");
    expect(audit.body.events.filter((e: { action: string }) => e.action === "version_expired")).toHaveLength(12);
  });

  it.runIf(testDatabaseKind() === "postgres")(
    "lets a second server's sweep skip while the first one holds the retention lock",
    async () => {
      const clone = await createTestDatabaseUrl();
      const first = await openPostgres(clone.url);
      const second = await openPostgres(clone.url);
      const raw = postgres(clone.url, { max: 1, onnotice: () => {} });
      try {
        // A version due for expiry, written straight into the clone.
        await raw.unsafe(`
          insert into users (id, name) values ('u1', 'sweeper-test');
          insert into projects (name) values ('p');
          insert into artifacts (project, name, type, version_count, latest_index) values ('p', 'a', 'dataset', 1, 0);
          insert into versions (id, project, artifact_id, index, state, digest, manifest, size, file_count,
            created_by, committed_at, expires_at)
          select 'av_0123456789abcdef', 'p', id, 0, 'committed', repeat('0', 64), '[]', 0, 0, 'u1', now(),
            now() - interval '1 minute' from artifacts;`);
        // The first sweep waits on the artifact's row lock, holding the retention lock meanwhile.
        const holder = raw.reserve();
        const held = await holder;
        await held.unsafe("begin");
        await held.unsafe("select * from artifacts for update");
        const slow = expireVersions(first, new Date());
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await expireVersions(second, new Date())).toEqual({ skipped: true, expired: 0 });
        await held.unsafe("commit");
        held.release();
        expect(await slow).toEqual({ skipped: false, expired: 1 });
      } finally {
        await raw.end();
        await first.close();
        await second.close();
        await clone.drop();
      }
    },
  );
});
