import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logVersion } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Registry roles: anyone may read a registry (an organisation-wide catalogue); a registry member links,
 * unlinks and moves aliases; protected aliases and the member list need a registry admin. Linking also
 * needs read access to the project the version comes from.
 */
let server: TestServer;
const keys: Record<string, string> = {};
let counter = 0;

type Role = "serverAdmin" | "registryAdmin" | "member" | "viewer" | "outsider";
type Need = "read" | "write" | "manage";
const roles: Role[] = ["serverAdmin", "registryAdmin", "member", "viewer", "outsider"];
const expected: Record<Need, Record<Role, "ok" | 403>> = {
  read: { serverAdmin: "ok", registryAdmin: "ok", member: "ok", viewer: "ok", outsider: "ok" },
  write: { serverAdmin: "ok", registryAdmin: "ok", member: "ok", viewer: 403, outsider: 403 },
  manage: { serverAdmin: "ok", registryAdmin: "ok", member: 403, viewer: 403, outsider: 403 },
};

beforeAll(async () => {
  server = await startTestServer();
  keys.serverAdmin = server.apiKey;
  for (const name of ["registryAdmin", "member", "viewer", "outsider", "extra"]) {
    keys[name] = (await server.api("POST", "/users", { name: name.toLowerCase() })).body.apiKey;
  }
  await server.api("POST", "/registries", { name: "model", protectedAliases: ["production"] });
  for (const [name, role] of [
    ["registryadmin", "admin"],
    ["member", "member"],
    ["viewer", "viewer"],
  ] as const) {
    expect((await server.api("PUT", `/registries/model/members/${name}`, { role })).status).toBe(200);
  }
  for (let index = 0; index < 40; index++) {
    await logVersion(server, "src", { name: "net", type: "model", content: `net-${index}` });
  }
  for (const name of ["registryadmin", "member", "viewer", "outsider"]) {
    await server.api("PUT", `/projects/src/members/${name}`, { role: "viewer" });
  }
  await server.api("POST", "/registries/model/collections/clf/versions", { project: "src", ref: "net:v0" });
});
afterAll(() => server.close());

interface RouteCase {
  need: Need;
  label: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  before?: () => Promise<unknown>;
}

const routes: RouteCase[] = [
  { need: "read", label: "list collections", method: "GET", path: () => "/registries/model/collections" },
  {
    need: "read",
    label: "collection versions",
    method: "GET",
    path: () => "/registries/model/collections/clf/versions",
  },
  { need: "read", label: "history", method: "GET", path: () => "/registries/model/collections/clf/history" },
  { need: "read", label: "members", method: "GET", path: () => "/registries/model/members" },
  {
    need: "write",
    label: "create collection",
    method: "POST",
    path: () => "/registries/model/collections",
    body: () => ({ name: `made-${++counter}`, type: "model" }),
  },
  {
    need: "write",
    label: "link",
    method: "POST",
    path: () => "/registries/model/collections/clf/versions",
    body: () => ({ project: "src", ref: `net:v${++counter % 40}` }),
  },
  {
    need: "write",
    label: "unprotected alias",
    method: "PUT",
    path: () => "/registries/model/collections/clf/aliases/staging",
    body: () => ({ version: "v0" }),
  },
  {
    need: "manage",
    label: "protected alias",
    method: "PUT",
    path: () => "/registries/model/collections/clf/aliases/production",
    body: () => ({ version: "v0" }),
    before: () => server.api("DELETE", "/registries/model/collections/clf/aliases/production"),
  },
  {
    need: "manage",
    label: "add member",
    method: "PUT",
    path: () => "/registries/model/members/extra",
    body: () => ({ role: "viewer" }),
  },
];

describe("registry access: role x route matrix on registry 'model'", () => {
  const cases = routes.flatMap((route) =>
    roles.map((role) => [route.label, role, expected[route.need][role], route] as const),
  );
  it.each(cases)("%s as %s -> %s", async (_label, role, outcome, route) => {
    await route.before?.();
    const response = await server.api(route.method, route.path(), route.body?.(), keys[role]);
    if (outcome === "ok") {
      expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
    } else {
      expect(response.status, JSON.stringify(response.body)).toBe(403);
      expect(response.body.error.code).toBe("FORBIDDEN");
      expect(["registry", "alias"]).toContain(response.body.error.field);
    }
  });

  it("refuses to link a version of a project the linker cannot read, as if it did not exist", async () => {
    await logVersion(server, "secret", { name: "hidden-net", type: "model", content: "s" });
    const refused = await server.api(
      "POST",
      "/registries/model/collections/clf/versions",
      { project: "secret", ref: "hidden-net" },
      keys.member,
    );
    expect(refused.status).toBe(404);
    expect(refused.body.error.field).toBe("project");
  });

  it("answers 404 for changes to a registry that does not exist", async () => {
    const response = await server.api(
      "POST",
      "/registries/nothing/collections",
      { name: "c", type: "model" },
      keys.member,
    );
    expect(response.status).toBe(404);
    expect(response.body.error.field).toBe("registry");
  });
});
