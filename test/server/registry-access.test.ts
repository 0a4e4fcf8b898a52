import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logVersion } from "../fixtures/registry";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * Registry roles: a `restricted` registry (the default) is read by its members only, an `organization` one by
 * every signed-in user; a registry member links, unlinks and moves aliases; protected aliases and the member
 * list need a registry admin. Linking also needs read access to the project the version comes from.
 */
let server: TestServer;
const keys: Record<string, string> = {};
let counter = 0;

type Role = "serverAdmin" | "registryAdmin" | "member" | "viewer" | "outsider";
type Need = "read" | "write" | "manage";
const roles: Role[] = ["serverAdmin", "registryAdmin", "member", "viewer", "outsider"];
/** 'model' is restricted: to an outsider it does not exist. */
const expected: Record<Need, Record<Role, "ok" | 403 | 404>> = {
  read: { serverAdmin: "ok", registryAdmin: "ok", member: "ok", viewer: "ok", outsider: 404 },
  write: { serverAdmin: "ok", registryAdmin: "ok", member: "ok", viewer: 403, outsider: 404 },
  manage: { serverAdmin: "ok", registryAdmin: "ok", member: 403, viewer: 403, outsider: 404 },
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
    } else if (outcome === 404) {
      expect(response.status, JSON.stringify(response.body)).toBe(404);
      expect(response.body.error).toEqual({
        code: "NOT_FOUND",
        message: "registry 'model' was not found",
        field: "registry",
      });
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

/**
 * Registry visibility. `vault` is restricted (the default): only `insider`, its viewer, reads it. `open` is an
 * organization registry: every signed-in user reads it. Both hold the same version of project `lab`, which
 * neither `insider` nor `stranger` has a role in; each has a project of its own to run in.
 */
describe("registry access: visibility", () => {
  const key: Record<string, string> = {};
  const run: Record<string, string> = {};
  const bytes = "weights of the lab model";
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  let model: { id: string };
  let labRun: string;

  beforeAll(async () => {
    for (const name of ["insider", "stranger", "labviewer"]) {
      key[name] = (await server.api("POST", "/users", { name })).body.apiKey;
    }
    expect((await server.api("POST", "/registries", { name: "vault" })).body.visibility).toBe("restricted");
    expect((await server.api("POST", "/registries", { name: "open", visibility: "organization" })).status).toBe(201);
    expect((await server.api("PUT", "/registries/vault/members/insider", { role: "viewer" })).status).toBe(200);
    labRun = (await server.api("POST", "/projects/lab/runs", { jobType: "training" })).body.id;
    const created = await server.api("POST", "/projects/lab/versions", {
      name: "lab-model",
      type: "model",
      manifest: [{ path: "weights.bin", sha256, size: bytes.length }],
      inlineBlobs: { [sha256]: Buffer.from(bytes).toString("base64") },
      runId: labRun,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    model = created.body.version;
    for (const registry of ["vault", "open"]) {
      const linked = await server.api("POST", `/registries/${registry}/collections/clf/versions`, {
        project: "lab",
        ref: "lab-model:v0",
        aliases: ["production"],
      });
      expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    }
    await server.api("PUT", "/projects/lab/members/labviewer", { role: "viewer" });
    for (const name of ["insider", "stranger"]) {
      const started = await server.api("POST", `/projects/own-${name}/runs`, { jobType: "eval" }, key[name]);
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      run[name] = started.body.id;
    }
  });

  /** The answer to a registry ref `stranger` cannot read must be the answer to one that does not exist. */
  async function expectSameAsMissing(
    path: (registry: string) => string,
    method = "GET",
    body?: (registry: string) => unknown,
  ) {
    const hidden = await server.api(method, path("vault"), body?.("vault"), key.stranger);
    const missing = await server.api(method, path("nowhere"), body?.("nowhere"), key.stranger);
    expect(missing.status).toBe(404);
    expect(hidden.status, JSON.stringify(hidden.body)).toBe(404);
    expect(JSON.stringify(hidden.body).replaceAll("vault", "nowhere")).toBe(JSON.stringify(missing.body));
  }

  it("lists only the registries the reader can read", async () => {
    const names = async (apiKey: string) =>
      (await server.api("GET", "/registries", undefined, apiKey)).body.registries.map((r: { name: string }) => r.name);
    expect(await names(key.stranger as string)).toEqual(["open"]);
    expect(await names(key.insider as string)).toEqual(["open", "vault"]);
    expect(await names(server.apiKey)).toEqual(expect.arrayContaining(["model", "open", "vault"]));
  });

  it("answers a restricted registry to a non-member exactly as a missing one", async () => {
    await expectSameAsMissing((r) => `/registries/${r}`);
    await expectSameAsMissing((r) => `/registries/${r}/collections`);
    await expectSameAsMissing((r) => `/registries/${r}/collections/clf/versions`);
    await expectSameAsMissing((r) => `/registries/${r}/members`);
    await expectSameAsMissing((r) => `/registries/${r}/collections/clf/history`);
    expect((await server.api("GET", "/registries/vault", undefined, key.insider)).status).toBe(200);
  });

  it("refuses to resolve a ref into a restricted registry for a non-member, wherever the ref is given", async () => {
    const own = "/projects/own-stranger";
    await expectSameAsMissing((r) => `${own}/versions?ref=${r}/clf:production`);
    await expectSameAsMissing(
      () => `${own}/runs/${run.stranger}/inputs`,
      "POST",
      (r) => ({ ref: `${r}/clf:production` }),
    );
    await expectSameAsMissing(
      () => `${own}/runs/${run.stranger}/inputs`,
      "POST",
      (r) => ({
        ref: `${r}/clf:production`,
        usedAt: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    );
    await expectSameAsMissing((r) => `${own}/lineage?node=${r}/clf:production`);
    await expectSameAsMissing((r) => `${own}/impact?node=${r}/clf:production`);
    await expectSameAsMissing((r) => `${own}/lineage/path?from=${r}/clf:production&to=${run.stranger}`);
    const inputs = await server.api("GET", `${own}/runs/${run.stranger}`, undefined, key.stranger);
    expect(JSON.stringify(inputs.body)).not.toContain(model.id);
  });

  it("refuses a non-member the linked version's details and files through the registry and its project", async () => {
    await expectSameAsMissing((r) => `/registries/${r}/collections/clf/versions/production`);
    await expectSameAsMissing((r) => `/registries/${r}/collections/clf/versions/${model.id}/files?path=weights.bin`);
    const direct = await server.api(
      "GET",
      `/projects/lab/versions/${model.id}/files?path=weights.bin`,
      undefined,
      key.stranger,
    );
    expect(direct.status).toBe(404);
    expect(direct.body.error.field).toBe("project");
  });

  it("lets a member of a restricted registry use, inspect and download what it links", async () => {
    const used = await server.api(
      "POST",
      `/projects/own-insider/runs/${run.insider}/inputs`,
      { ref: "vault/clf:production" },
      key.insider,
    );
    expect(used.status, JSON.stringify(used.body)).toBe(200);
    expect(used.body.id).toBe(model.id);
    const resolved = await server.api("GET", "/projects/own-insider/versions?ref=vault/clf:v0", undefined, key.insider);
    expect(resolved.body.id).toBe(model.id);
    const file = await fetch(
      `${server.url}/api/v1/registries/vault/collections/clf/versions/production/files?path=weights.bin`,
      { headers: { authorization: `Bearer ${key.insider}` } },
    );
    expect(file.status).toBe(200);
    expect(await file.text()).toBe(bytes);
  });

  it("keeps hiding the nodes of projects the registry reader cannot see in lineage and details", async () => {
    const graph = await server.api(
      "GET",
      "/projects/own-insider/lineage?node=vault/clf:production&upstream=2&downstream=2",
      undefined,
      key.insider,
    );
    expect(graph.status, JSON.stringify(graph.body)).toBe(200);
    const ids = graph.body.nodes.map((node: { id: string }) => node.id).sort();
    expect(ids, JSON.stringify(graph.body)).toEqual([model.id, run.insider].sort());
    expect(ids).not.toContain(labRun);
    const details = await server.api(
      "GET",
      "/registries/vault/collections/clf/versions/production",
      undefined,
      key.insider,
    );
    expect(details.status).toBe(200);
    expect(details.body.producers).toEqual([]);
    expect(details.body.producerCount).toBe(0);
    expect(details.body.consumers.map((c: { id: string }) => c.id)).toEqual([run.insider]);
  });

  it("lets every signed-in user read an organization registry, the linked version's files included", async () => {
    expect((await server.api("GET", "/registries/open", undefined, key.stranger)).body.visibility).toBe("organization");
    const resolved = await server.api(
      "GET",
      "/projects/own-stranger/versions?ref=open/clf:production",
      undefined,
      key.stranger,
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body.id).toBe(model.id);
    expect(resolved.body.memberships.map((m: { registry: string }) => m.registry)).toEqual(["open"]);
    const details = await server.api(
      "GET",
      `/registries/open/collections/clf/versions/${model.id}`,
      undefined,
      key.stranger,
    );
    expect(details.status).toBe(200);
    expect(details.body.manifest).toEqual([{ path: "weights.bin", sha256, size: bytes.length }]);
    const file = await fetch(
      `${server.url}/api/v1/registries/open/collections/clf/versions/${model.id}/files?path=weights.bin`,
      { headers: { authorization: `Bearer ${key.stranger}` } },
    );
    expect(file.status).toBe(200);
    expect(await file.text()).toBe(bytes);
    // Reading is not writing: a non-member cannot link into it.
    const link = await server.api(
      "POST",
      "/registries/open/collections/clf/versions",
      { project: "lab", ref: "lab-model:v0" },
      key.stranger,
    );
    expect(link.status).toBe(403);
  });

  it("leaves restricted registries out of a version's memberships and impact for project readers who are not members", async () => {
    const details = await server.api("GET", `/projects/lab/versions/${model.id}`, undefined, key.labviewer);
    expect(details.body.memberships.map((m: { registry: string }) => m.registry)).toEqual(["open"]);
    const impact = await server.api("GET", `/projects/lab/impact?node=${model.id}`, undefined, key.labviewer);
    expect(JSON.stringify(impact.body)).not.toContain("vault");
    const asAdmin = await server.api("GET", `/projects/lab/versions/${model.id}`);
    expect(asAdmin.body.memberships.map((m: { registry: string }) => m.registry)).toEqual(["open", "vault"]);
  });

  it("lets registry admins change the visibility, and nobody else", async () => {
    await server.api("PUT", "/registries/open/members/insider", { role: "member" });
    const byMember = await server.api("PATCH", "/registries/open", { visibility: "restricted" }, key.insider);
    expect(byMember.status).toBe(403);
    await expectSameAsMissing(
      (r) => `/registries/${r}`,
      "PATCH",
      () => ({ visibility: "organization" }),
    );
    const changed = await server.api("PATCH", "/registries/open", { visibility: "restricted" });
    expect(changed.status).toBe(200);
    expect(changed.body.visibility).toBe("restricted");
    const gone = await server.api(
      "GET",
      "/projects/own-stranger/versions?ref=open/clf:production",
      undefined,
      key.stranger,
    );
    expect(gone.status).toBe(404);
    expect((await server.api("GET", "/registries/open", undefined, key.insider)).status).toBe(200);
    const bad = await server.api("PATCH", "/registries/open", { visibility: "public" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("visibility");
    await server.api("PATCH", "/registries/open", { visibility: "organization" });
  });

  it("creates a registry again without a visibility whatever visibility it has, and refuses another one", async () => {
    const again = await server.api("POST", "/registries", { name: "open" });
    expect(again.status).toBe(200);
    expect(again.body.visibility).toBe("organization");
    const other = await server.api("POST", "/registries", { name: "open", visibility: "restricted" });
    expect(other.status).toBe(409);
    expect(other.body.error.field).toBe("name");
  });
});
