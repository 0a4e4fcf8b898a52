import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

/** The key cache remembers a key for seconds; a key's own expiry still holds to the millisecond. */
let server: TestServer;
let now = new Date("2026-05-01T09:00:00.000Z");

beforeAll(async () => {
  server = await startTestServer({ clock: { now: () => now } });
});
afterAll(() => server.close());

describe("keys: expiry through the key cache", () => {
  it("refuses a cached key from its expiresAt on, not seconds later", async () => {
    const expiresAt = new Date(now.getTime() + 10_000).toISOString();
    const created = await server.api("POST", "/keys", { name: "short", expiresAt });
    expect(created.status).toBe(201);
    const key = created.body.apiKey as string;

    now = new Date(Date.parse(expiresAt) - 1_000);
    expect((await server.api("GET", "/me", undefined, key)).status).toBe(200); // now in the cache
    now = new Date(Date.parse(expiresAt) - 1);
    expect((await server.api("GET", "/me", undefined, key)).status).toBe(200);
    now = new Date(expiresAt);
    const refused = await server.api("GET", "/me", undefined, key);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: "UNAUTHORIZED", field: "authorization" });
    expect((await server.api("POST", "/projects/late/runs", {}, key)).status).toBe(401);
    // The admin's key, which never expires, is cached the same way and keeps working.
    expect((await server.api("GET", "/me")).status).toBe(200);
  });
});
