import { createHash } from "node:crypto";
import { type AnyRoute, type Permission, type RouteName, routeList, routeUrl } from "@pedigree/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

/**
 * The access matrix, generated from the route table: every route × every role, each asserting what the
 * route's declared permission lets that role do. A refused role gets exactly the refusal its permission
 * implies (401 without a key, 404 for a project it has no role in, 403 for too low a role); an allowed role
 * is never refused by the gate (whatever the route then answers: 2xx, or a 4xx about the input or state).
 * Each role holds the same role in the project and the registry the routes touch. Checks finer than the
 * declared permission, which the services make (only project admins or the member who logged it delete or
 * set a ttl; OpenLineage ingest needs write access to the project it names), are covered where those
 * services are tested: here deletions name resources that do not exist, so the gate alone decides.
 */
type Role = "anonymous" | "noRole" | "viewer" | "member" | "admin" | "serverAdmin";
const roles: Role[] = ["anonymous", "noRole", "viewer", "member", "admin", "serverAdmin"];
type Refusal = 401 | 403 | 404;

const rank = { noRole: 0, viewer: 1, member: 2, admin: 3 } as const;
const needed = { read: 1, write: 2, admin: 3 } as const;

/** What `permission` means for `role`: allowed, or the refusal it answers. */
function expectedFor(permission: Permission, role: Role): "allowed" | Refusal {
  if (permission === "public") return "allowed";
  if (role === "anonymous") return 401;
  if (role === "serverAdmin" || permission === "user") return "allowed";
  if (permission === "server:admin") return 403;
  // Uploads need write access to some project: each role here has its role in one project only.
  if (permission === "blob:write") return rank[role] >= needed.write ? "allowed" : 403;
  const [, level] = permission.split(":") as ["project" | "registry", keyof typeof needed];
  if (rank[role] >= needed[level]) return "allowed";
  // A project or a (restricted) registry the caller has no role in is not revealed.
  return role === "noRole" ? 404 : 403;
}

let server: TestServer;
const keys: Record<Role, string | null> = {
  anonymous: null,
  noRole: null,
  viewer: null,
  member: null,
  admin: null,
  serverAdmin: null,
};
const userNames = { noRole: "outsider", viewer: "viewer", member: "member", admin: "owner" } as const;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const content = "matrix rows";
const fixture = { runId: "", versionId: "" };

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimit: null } });
  keys.serverAdmin = server.apiKey;
  const ok = async (answer: ReturnType<TestServer["api"]>) => {
    const { status, body } = await answer;
    expect(status, JSON.stringify(body)).toBeLessThan(300);
    return body;
  };
  for (const role of ["noRole", "viewer", "member", "admin"] as const) {
    keys[role] = (await ok(server.api("POST", "/users", { name: userNames[role] }))).apiKey;
  }
  await ok(server.api("POST", "/users", { name: "bystander" }));
  const run = await ok(server.api("POST", "/projects/alpha/runs", { id: "matrix01", jobType: "train" }));
  fixture.runId = run.id;
  const version = await ok(
    server.api("POST", "/projects/alpha/versions", {
      name: "data",
      type: "dataset",
      manifest: [{ path: "rows.txt", sha256: sha256(content), size: content.length }],
      inlineBlobs: { [sha256(content)]: Buffer.from(content).toString("base64") },
      aliases: ["best"],
    }),
  );
  fixture.versionId = version.version.id;
  await ok(server.api("POST", "/registries", { name: "models" }));
  await ok(server.api("POST", "/registries/models/collections/clf/versions", { project: "alpha", ref: "data:v0" }));
  for (const role of ["viewer", "member", "admin"] as const) {
    await ok(server.api("PUT", `/projects/alpha/members/${userNames[role]}`, { role }));
    await ok(server.api("PUT", `/registries/models/members/${userNames[role]}`, { role }));
  }
});
afterAll(() => server.close());

/** Path parameters naming the fixture's resources; unknown ones (a key id, a cluster) still reach the gate. */
function paramsOf(route: AnyRoute): Record<string, string> {
  const values: Record<string, string> = {
    project: "alpha",
    runId: fixture.runId,
    versionId: fixture.versionId,
    name: "data",
    alias: "best",
    user: "bystander",
    registry: "models",
    collection: "clf",
    version: "v0",
    clusterId: "cl_0123456789abcdef",
    sha256: sha256(content),
    keyId: "k_000000000000",
  };
  return Object.fromEntries(Object.keys(route.params ?? {}).map((name) => [name, values[name] as string]));
}

/** Deletions name what does not exist: they would otherwise take the fixture away from the routes after them. */
const missing: Partial<Record<RouteName, Record<string, string>>> = {
  deleteVersion: { versionId: "av_0000000000000000" },
  updateVersion: { versionId: "av_0000000000000000" },
  deleteArtifact: { name: "nothing" },
  deleteRun: { runId: "gone0000" },
};

/** A query each route accepts; bodies are sent as `{}`: the gate answers before a body is read. */
const queries: Partial<Record<RouteName, Record<string, string>>> = {
  resolveVersion: { ref: "data:v0" },
  downloadFile: { path: "rows.txt" },
  getLineage: { node: "data:v0" },
  getLineagePath: { from: "data:v0", to: "data:v0" },
  listClusterMembers: { node: "data:v0" },
  getImpact: { node: "data:v0" },
  downloadCollectionVersionFile: { path: "rows.txt" },
};

describe("access matrix: every route of the table × every role", () => {
  it("covers every route", () => {
    expect(routeList.length).toBeGreaterThan(40);
  });

  for (const { name, route } of routeList) {
    describe(`${name}: ${route.method} ${route.path} needs ${route.permission}`, () => {
      for (const role of roles) {
        const expected = expectedFor(route.permission, role);
        it(`${role}: ${expected === "allowed" ? "allowed" : `refused with ${expected}`}`, async () => {
          const params = { ...paramsOf(route), ...missing[name] };
          const path = routeUrl(route, { params, query: queries[name] ?? {} });
          const body = route.body === undefined ? undefined : {};
          const answer = await server.api(route.method, path, body, keys[role]);
          if (expected === "allowed") {
            const refusedByGate =
              answer.status === 401 ||
              answer.status === 403 ||
              (answer.status === 404 && ["project", "registry"].includes(answer.body?.error?.field));
            expect(refusedByGate, `${answer.status} ${JSON.stringify(answer.body)}`).toBe(false);
          } else {
            expect(answer.status, JSON.stringify(answer.body)).toBe(expected);
          }
        });
      }
    });
  }
});
