import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Who may do what: server admin, the project's admin, member and viewer, and a user with no role in it.
 * Every project route is tried by every role; a role without access to the project sees a 404 (the name
 * does not leak), a role that may read but not write sees a 403.
 */
let server: TestServer;
let clockOffsetMs = 0;
const keys: Record<string, string> = {};
let runId = "";
let versionId = "";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function createUser(name: string, isAdmin = false) {
  const created = await server.api("POST", "/users", { name, isAdmin });
  expect(created.status).toBe(201);
  return created.body as { user: { id: string; name: string }; key: { id: string }; apiKey: string };
}

beforeAll(async () => {
  server = await startTestServer({ clock: { now: () => new Date(Date.now() + clockOffsetMs) } });
  keys.serverAdmin = server.apiKey;
  for (const name of ["owner", "member", "viewer", "outsider", "guest", "visitor"])
    keys[name] = (await createUser(name)).apiKey;

  // The owner's first write creates the project and makes the owner its admin.
  const run = await server.api("POST", "/projects/alpha/runs", { id: "alpharun", jobType: "training" }, keys.owner);
  expect(run.status).toBe(201);
  runId = run.body.id;
  expect((await server.api("PUT", "/projects/alpha/members/member", { role: "member" }, keys.owner)).status).toBe(200);
  expect((await server.api("PUT", "/projects/alpha/members/viewer", { role: "viewer" }, keys.owner)).status).toBe(200);

  const content = "alpha rows";
  await fetch(`${server.url}/api/v1/blobs/${sha256(content)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${keys.owner}` },
    body: content,
  });
  const version = await server.api(
    "POST",
    "/projects/alpha/versions",
    { name: "ds", type: "dataset", manifest: [{ path: "data.txt", sha256: sha256(content), size: content.length }] },
    keys.owner,
  );
  expect(version.status).toBe(201);
  versionId = version.body.version.id;
});
afterAll(() => server.close());

type Role = "serverAdmin" | "owner" | "member" | "viewer" | "outsider";
type Need = "read" | "write" | "manage";
const roles: Role[] = ["serverAdmin", "owner", "member", "viewer", "outsider"];

/** What each role gets for each kind of route: 2xx, 403 or 404. */
const expected: Record<Need, Record<Role, "ok" | 403 | 404>> = {
  read: { serverAdmin: "ok", owner: "ok", member: "ok", viewer: "ok", outsider: 404 },
  write: { serverAdmin: "ok", owner: "ok", member: "ok", viewer: 403, outsider: 404 },
  manage: { serverAdmin: "ok", owner: "ok", member: 403, viewer: 403, outsider: 404 },
};

interface RouteCase {
  need: Need;
  method: string;
  path: () => string;
  body?: (role: Role) => unknown;
  /** Done as the server admin before the request, so each role meets the same state. */
  before?: () => Promise<unknown>;
}

const routes: RouteCase[] = [
  { need: "read", method: "GET", path: () => "/projects/alpha/runs" },
  { need: "read", method: "GET", path: () => `/projects/alpha/runs/${runId}` },
  { need: "read", method: "GET", path: () => "/projects/alpha/artifacts" },
  { need: "read", method: "GET", path: () => "/projects/alpha/artifacts/ds" },
  { need: "read", method: "GET", path: () => "/projects/alpha/versions?ref=ds:latest" },
  { need: "read", method: "GET", path: () => `/projects/alpha/versions/${versionId}` },
  { need: "read", method: "GET", path: () => `/projects/alpha/versions/${versionId}/files?path=data.txt` },
  { need: "read", method: "GET", path: () => "/projects/alpha/members" },
  { need: "read", method: "GET", path: () => "/projects/alpha/lineage?node=ds" },
  { need: "read", method: "GET", path: () => "/projects/alpha/impact?node=ds" },
  { need: "write", method: "POST", path: () => "/projects/alpha/runs", body: () => ({ jobType: "eval" }) },
  { need: "write", method: "PATCH", path: () => `/projects/alpha/runs/${runId}`, body: () => ({ heartbeat: true }) },
  { need: "write", method: "POST", path: () => `/projects/alpha/runs/${runId}/inputs`, body: () => ({ ref: "ds" }) },
  {
    need: "write",
    method: "POST",
    path: () => "/projects/alpha/versions",
    body: (role) => ({ name: "refs", type: "dataset", manifest: [{ path: "r", uri: `s3://bucket/${role}` }] }),
  },
  { need: "write", method: "POST", path: () => `/projects/alpha/versions/${versionId}/commit`, body: () => ({}) },
  {
    need: "write",
    method: "PUT",
    path: () => "/projects/alpha/artifacts/ds/aliases/best",
    body: () => ({ version: "v0" }),
  },
  {
    need: "write",
    method: "DELETE",
    path: () => "/projects/alpha/artifacts/ds/aliases/best",
    before: () => server.api("PUT", "/projects/alpha/artifacts/ds/aliases/best", { version: "v0" }),
  },
  { need: "manage", method: "PUT", path: () => "/projects/alpha/members/visitor", body: () => ({ role: "viewer" }) },
  {
    need: "manage",
    method: "DELETE",
    path: () => "/projects/alpha/members/visitor",
    before: () => server.api("PUT", "/projects/alpha/members/visitor", { role: "viewer" }),
  },
];

async function request(method: string, path: string, body: unknown, apiKey: string) {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("json") && text ? JSON.parse(text) : null;
  return { status: response.status, body: json };
}

describe("access: role x route matrix on project 'alpha'", () => {
  const cases = routes.flatMap((route) => roles.map((role) => ({ route, role, outcome: expected[route.need][role] })));
  it.each(
    cases.map((c) => [c.route.method, c.route.path.toString().replace(/^\(\) => /, ""), c.role, c.outcome, c] as const),
  )("%s %s as %s -> %s", async (_method, _path, role, outcome, { route }) => {
    await route.before?.();
    const path = route.path();
    const response = await request(route.method, path, route.body?.(role), keys[role] as string);
    if (outcome === "ok") {
      expect(response.status, `${route.method} ${path} as ${role}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
    } else {
      expect(response.status, `${route.method} ${path} as ${role}`).toBe(outcome);
      expect(response.body.error.code).toBe(outcome === 403 ? "FORBIDDEN" : "NOT_FOUND");
      if (outcome === 404) expect(response.body.error.field).toBe("project");
    }
  });

  it("answers a project nobody may see exactly as one that does not exist", async () => {
    const hidden = await request("GET", "/projects/alpha/runs", undefined, keys.outsider as string);
    const missing = await request("GET", "/projects/nosuchproject/runs", undefined, keys.outsider as string);
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.body.error.message.replace("alpha", "X")).toBe(
      missing.body.error.message.replace("nosuchproject", "X"),
    );
  });

  it("lets only users who may write somewhere upload files", async () => {
    const upload = (key: string, content: string) =>
      fetch(`${server.url}/api/v1/blobs/${sha256(content)}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${key}` },
        body: content,
      });
    for (const role of ["viewer", "outsider"] as const) {
      const refused = await upload(keys[role] as string, `from ${role}`);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: "FORBIDDEN", field: "authorization" } });
    }
    expect((await upload(keys.member as string, "from member")).status).toBe(201);
  });

  it("refuses a viewer's write without changing anything", async () => {
    const before = await server.api("GET", "/projects/alpha/runs?limit=1000");
    const refused = await server.api("POST", "/projects/alpha/runs", { jobType: "sneaky" }, keys.viewer);
    expect(refused.status).toBe(403);
    expect((await server.api("GET", "/projects/alpha/runs?limit=1000")).body.runs).toEqual(before.body.runs);
  });
});

describe("access: projects come into being on first write", () => {
  it("makes the first writer the admin of a new project, and hides it from everyone else", async () => {
    const created = await server.api("POST", "/projects/guestproj/runs", { jobType: "training" }, keys.guest);
    expect(created.status).toBe(201);
    const members = await server.api("GET", "/projects/guestproj/members", undefined, keys.guest);
    expect(members.body.members).toEqual([
      { user: "guest", userId: expect.any(String), role: "admin", addedAt: expect.any(String) },
    ]);
    expect((await server.api("GET", "/projects/guestproj/runs", undefined, keys.outsider)).status).toBe(404);
    const write = await server.api("POST", "/projects/guestproj/runs", { jobType: "x" }, keys.outsider);
    expect(write.status).toBe(404);
  });

  it("creates no project for a write that fails", async () => {
    const bad = await server.api("POST", "/projects/neverborn/runs", { jobType: "not a job type!" }, keys.outsider);
    expect(bad.status).toBe(400);
    const projects = await server.api("GET", "/projects");
    expect(projects.body.projects.map((project: { name: string }) => project.name)).not.toContain("neverborn");
    // The name is still free: another user's first write claims it.
    expect((await server.api("POST", "/projects/neverborn/runs", {}, keys.member)).status).toBe(201);
  });

  let viewerClaimedRacing = false;
  it("gives a new project one admin when two users write first at the same time", async () => {
    const [a, b] = await Promise.all([
      server.api("POST", "/projects/racing/runs", {}, keys.viewer),
      server.api("POST", "/projects/racing/runs", {}, keys.outsider),
    ]);
    expect([a?.status, b?.status].sort()).toEqual([201, 404]);
    viewerClaimedRacing = a?.status === 201;
    const members = await server.api("GET", "/projects/racing/members");
    expect(members.body.members).toHaveLength(1);
    expect(members.body.members[0].role).toBe("admin");
  });

  it("lists only the projects a user has a role in; a server admin sees all", async () => {
    const names = async (key: string) =>
      (await server.api("GET", "/projects", undefined, key)).body.projects.map(
        (project: { name: string }) => project.name,
      );
    const all: string[] = await names(keys.serverAdmin as string);
    expect(all).toEqual(expect.arrayContaining(["alpha", "guestproj", "neverborn", "racing"]));
    // Whichever of the viewer and the outsider won the race for "racing" has a role in it.
    const viewerProjects = viewerClaimedRacing ? ["alpha", "racing"] : ["alpha"];
    expect(await names(keys.viewer as string)).toEqual(all.filter((name) => viewerProjects.includes(name)).sort());
    expect(await names(keys.guest as string)).toEqual(["guestproj"]);
    expect(await names(keys.member as string)).toEqual(["alpha", "neverborn"]);
  });

  it("keeps at least one admin in a project", async () => {
    const stepDown = await server.api("PUT", "/projects/guestproj/members/guest", { role: "viewer" }, keys.guest);
    expect(stepDown.status).toBe(409);
    expect(stepDown.body.error.field).toBe("role");
    expect((await server.api("DELETE", "/projects/guestproj/members/guest", undefined, keys.guest)).status).toBe(409);
  });
});

describe("access: role changes", () => {
  it("applies a new or removed role to the very next request, though roles are cached", async () => {
    const user = await createUser("changer");
    await server.api("POST", "/projects/rolling/runs", {}, keys.owner);
    const readRuns = () => server.api("GET", "/projects/rolling/runs", undefined, user.apiKey);
    expect((await readRuns()).status).toBe(404);
    expect((await server.api("PUT", "/projects/rolling/members/changer", { role: "viewer" }, keys.owner)).status).toBe(
      200,
    );
    expect((await readRuns()).status).toBe(200);
    expect((await server.api("POST", "/projects/rolling/runs", {}, user.apiKey)).status).toBe(403);
    expect((await server.api("PUT", "/projects/rolling/members/changer", { role: "member" }, keys.owner)).status).toBe(
      200,
    );
    expect((await server.api("POST", "/projects/rolling/runs", {}, user.apiKey)).status).toBe(201);
    expect((await server.api("DELETE", "/projects/rolling/members/changer", undefined, keys.owner)).status).toBe(204);
    expect((await readRuns()).status).toBe(404);
  });
});

describe("access: using a version of another project", () => {
  it("needs read access to that project, and answers 404 without it", async () => {
    const content = "beta rows";
    const beta = await server.api(
      "POST",
      "/projects/betaproj/versions",
      { name: "base", type: "model", manifest: [{ path: "w", uri: "s3://b/w" }] },
      keys.owner,
    );
    expect(beta.status).toBe(201);
    const run = await server.api("POST", "/projects/neverborn/runs", { jobType: "eval" }, keys.member);
    const use = () =>
      server.api(
        "POST",
        `/projects/neverborn/runs/${run.body.id}/inputs`,
        { ref: "base", project: "betaproj" },
        keys.member,
      );
    const refused = await use();
    expect(refused.status).toBe(404);
    expect(refused.body.error.field).toBe("project");
    expect(content).toBeTruthy();
    await server.api("PUT", "/projects/betaproj/members/member", { role: "viewer" }, keys.owner);
    const allowed = await use();
    expect(allowed.status).toBe(200);
    expect(allowed.body.id).toBe(beta.body.version.id);
  });
});

describe("access: users and API keys", () => {
  it("lets only server admins create and list users", async () => {
    const refused = await server.api("POST", "/users", { name: "mallory" }, keys.owner);
    expect(refused.status).toBe(403);
    expect((await server.api("GET", "/users", undefined, keys.owner)).status).toBe(403);
    const listed = await server.api("GET", "/users");
    expect(listed.body.users.map((user: { name: string }) => user.name)).toEqual(
      expect.arrayContaining(["admin", "owner", "member", "viewer", "outsider", "guest"]),
    );
    const duplicate = await server.api("POST", "/users", { name: "owner" });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.field).toBe("name");
  });

  it("shows a key once and keeps only its sha256", async () => {
    const created = await server.api("POST", "/keys", { name: "laptop" }, keys.guest);
    expect(created.status).toBe(201);
    expect(created.body.apiKey).toMatch(/^pdg_/);
    expect((await server.api("GET", "/me", undefined, created.body.apiKey)).body.user.name).toBe("guest");
    const listed = await server.api("GET", "/keys", undefined, keys.guest);
    expect(listed.body.keys.map((key: { name: string }) => key.name).sort()).toEqual(["default", "laptop"]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.apiKey);
    const stored = await server.database.read(async (db) => {
      const { apiKeys } = await import("../../packages/server/src/db/schema");
      return db.select().from(apiKeys);
    });
    expect(JSON.stringify(stored)).not.toContain(created.body.apiKey);
    expect(stored.map((row) => row.keyHash)).toContain(sha256(created.body.apiKey));
  });

  it("refuses a revoked key at once, and lets nobody else revoke it", async () => {
    const created = await server.api("POST", "/keys", { name: "ci" }, keys.outsider);
    const key = created.body.apiKey as string;
    expect((await server.api("GET", "/me", undefined, key)).status).toBe(200);
    const foreign = await server.api("DELETE", `/keys/${created.body.key.id}`, undefined, keys.guest);
    expect(foreign.status).toBe(404);
    const revoked = await server.api("DELETE", `/keys/${created.body.key.id}`, undefined, keys.outsider);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const refused = await server.api("GET", "/me", undefined, key);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("UNAUTHORIZED");
    expect((await server.api("POST", "/projects/outsiderproj/runs", {}, key)).status).toBe(401);
    // The user's other keys keep working.
    expect((await server.api("GET", "/me", undefined, keys.outsider)).status).toBe(200);
  });

  it("refuses a key past its expiry, and an expiry in the past", async () => {
    const expiresAt = new Date(Date.now() + clockOffsetMs + 60 * 60_000).toISOString();
    const created = await server.api("POST", "/keys", { name: "short", expiresAt }, keys.guest);
    expect(created.body.key.expiresAt).toBe(expiresAt);
    expect((await server.api("GET", "/me", undefined, created.body.apiKey)).status).toBe(200);
    clockOffsetMs += 2 * 60 * 60_000;
    try {
      expect((await server.api("GET", "/me", undefined, created.body.apiKey)).status).toBe(401);
      expect((await server.api("GET", "/me", undefined, keys.guest)).status).toBe(200);
    } finally {
      clockOffsetMs -= 2 * 60 * 60_000;
    }
    const past = await server.api("POST", "/keys", { name: "old", expiresAt: "2001-01-01T00:00:00Z" }, keys.guest);
    expect(past.status).toBe(400);
    expect(past.body.error.field).toBe("expiresAt");
  });

  it("refuses requests without a key or with an unknown one", async () => {
    expect((await fetch(`${server.url}/api/v1/projects`)).status).toBe(401);
    expect((await server.api("GET", "/projects", undefined, "pdg_not-a-real-key")).status).toBe(401);
  });
});

describe("access: rate limit on writes", () => {
  it("answers 429 past the burst, per user, and leaves reads alone", async () => {
    const limited = await startTestServer({ config: { rateLimit: { perSecond: 0.001, burst: 3 } } });
    try {
      const fresh = await limited.api("POST", "/users", { name: "fresh" });
      const statuses = [];
      for (let index = 0; index < 3; index++) {
        statuses.push((await limited.api("POST", "/projects/busy/runs", {})).status);
      }
      expect(statuses).toEqual([201, 201, 429]);
      const refused = await fetch(`${limited.url}/api/v1/projects/busy/runs`, {
        method: "POST",
        headers: { authorization: `Bearer ${limited.apiKey}`, "content-type": "application/json" },
        body: "{}",
      });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await refused.json()).toMatchObject({ error: { code: "RATE_LIMITED", field: "authorization" } });
      expect((await limited.api("GET", "/projects/busy/runs")).body.runs).toHaveLength(2);
      expect((await limited.api("POST", "/projects/freshproj/runs", {}, fresh.body.apiKey)).status).toBe(201);
    } finally {
      await limited.close();
    }
  }, 30_000);

  it("counts every key of a user against one limit: spare keys add no writes", async () => {
    const limited = await startTestServer({ config: { rateLimit: { perSecond: 0.001, burst: 3 } } });
    try {
      const created = await limited.api("POST", "/users", { name: "minter" });
      const first = created.body.apiKey as string;
      const spare = await limited.api("POST", "/keys", { name: "spare" }, first); // write 1 of 3
      expect(spare.status).toBe(201);
      const second = spare.body.apiKey as string;
      expect((await limited.api("POST", "/projects/minted/runs", {}, first)).status).toBe(201); // 2 of 3
      expect((await limited.api("POST", "/projects/minted/runs", {}, second)).status).toBe(201); // 3 of 3
      const refused = await limited.api("POST", "/projects/minted/runs", {}, second);
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: "RATE_LIMITED", field: "authorization" });
      expect(refused.body.error.message).toContain("user 'minter'");
      expect((await limited.api("POST", "/keys", { name: "third" }, first)).status).toBe(429);
      expect((await limited.api("GET", "/projects/minted/runs", undefined, second)).body.runs).toHaveLength(2);
      // Another user's budget is untouched.
      expect((await limited.api("POST", "/projects/other/runs", {})).status).toBe(201);
    } finally {
      await limited.close();
    }
  }, 30_000);
});
