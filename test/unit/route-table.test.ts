import { type AnyRoute, defineRoute, ProjectName, RunSummary, routes, routeUrl } from "@pedigree/protocol";
import { describe, expect, it } from "vitest";
import { registerRoute } from "../../packages/server/src/routes/register-route";
import { assertAnswerKeepsContract } from "../fixtures/contract";

type Registration = Parameters<typeof registerRoute>;
/** Registration checks the route before it touches the app or its dependencies. */
const register = (route: unknown) =>
  registerRoute({} as Registration[0], {} as Registration[1], { writes: [], jsonBodies: [] }, route as AnyRoute, (c) =>
    c.body(null, 204),
  );

describe("route table: a route cannot be registered without its permission", () => {
  it("refuses, at registration, a route that declares no permission or one that is not a permission", () => {
    expect(() => register({ method: "GET", path: "/things", summary: "things", responses: { 200: null } })).toThrow(
      "GET /things declares no permission; a route cannot be registered without one",
    );
    expect(() =>
      register({ method: "GET", path: "/things", summary: "things", permission: "everyone", responses: {} }),
    ).toThrow(/declares no permission/);
  });

  it("refuses a project or registry permission on a path without that parameter", () => {
    expect(() =>
      register({ method: "GET", path: "/things", summary: "things", permission: "project:read", responses: {} }),
    ).toThrow("GET /things needs 'project:read' but has no {project} in its path");
  });

  it("does not compile a route without a permission, or with a resource permission its path cannot carry", () => {
    // @ts-expect-error: `permission` is required.
    defineRoute({ method: "GET", path: "/things", summary: "things", responses: { 200: RunSummary } });
    // @ts-expect-error: project permissions need a {project} in the path.
    defineRoute({ method: "GET", path: "/things", summary: "things", permission: "project:read", responses: {} });
    defineRoute({
      method: "GET",
      path: "/projects/{project}/things",
      summary: "things",
      permission: "project:read",
      params: { project: ProjectName },
      responses: { 200: RunSummary },
    });
  });
});

describe("route table: one URL serializer", () => {
  it("encodes path parameters and repeats a list's name in the query, leaving out absent values", () => {
    expect(routeUrl(routes.getArtifact, { params: { project: "zoo", name: "a b/c" } })).toBe(
      "/projects/zoo/artifacts/a%20b%2Fc",
    );
    expect(
      routeUrl(routes.getLineage, {
        params: { project: "zoo" },
        query: { node: "ds:v0", artifactTypes: ["model", "dataset"], upstream: 3, extended: true, asOf: undefined },
      }),
    ).toBe("/projects/zoo/lineage?node=ds%3Av0&artifactTypes=model&artifactTypes=dataset&upstream=3&extended=true");
  });
});

describe("test client: an answer that drifts from the contract fails", () => {
  const run = {
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

  it("accepts an answer exactly as declared", () => {
    expect(() => assertAnswerKeepsContract("POST", "/projects/zoo/runs", 201, run)).not.toThrow();
    expect(() =>
      assertAnswerKeepsContract("POST", "/projects/zoo/runs", 409, { error: { code: "CONFLICT", message: "taken" } }),
    ).not.toThrow();
  });

  it("refuses a field the schema does not declare, a field of another type, and an undeclared status", () => {
    expect(() => assertAnswerKeepsContract("POST", "/projects/zoo/runs", 201, { ...run, extra: 1 })).toThrow(
      /fields its schema does not declare/,
    );
    expect(() => assertAnswerKeepsContract("POST", "/projects/zoo/runs", 201, { ...run, tags: "a" })).toThrow(
      /a body its schema refuses/,
    );
    expect(() => assertAnswerKeepsContract("POST", "/projects/zoo/runs", 200, run)).toThrow(
      /route createRun does not declare that status/,
    );
    expect(() => assertAnswerKeepsContract("GET", "/projects/zoo/runs/abcd1234", 500, { error: {} })).toThrow();
  });
});
