import { openApiDocument, routeList } from "@pedigree/protocol";
import { SERVER_VERSION } from "@pedigree/server";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fixtures/server";

let server: TestServer;
interface Operation {
  security?: unknown[];
  responses: Record<string, unknown>;
  "x-pedigree-permission"?: string;
}
let document: {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, unknown>;
    responses: Record<string, { content: Record<string, { schema: unknown }> }>;
  };
};
beforeAll(async () => {
  server = await startTestServer();
  const response = await fetch(`${server.url}/api/v1/openapi.json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as typeof document;
});
afterAll(() => server.close());

const methods = ["get", "put", "post", "patch", "delete"];
const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    methods.flatMap((method) => (item[method] ? [{ path, method, operation: item[method] }] : [])),
  );

describe("openapi: the document served at /api/v1/openapi.json", () => {
  it("is served without a key and is a valid OpenAPI 3.1 document whose references all resolve", async () => {
    expect(document.openapi).toBe("3.1.0");
    const validator = new Validator();
    // The validator resolves references in place: it gets a copy.
    const result = await validator.validate(structuredClone(document) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(() => validator.resolveRefs()).not.toThrow();
    expect(JSON.stringify(document)).toBe(JSON.stringify(openApiDocument({ version: SERVER_VERSION })));
  });

  it("documents every route the server registers below /api/v1, and nothing else", () => {
    const registered = new Set(
      server.app.routes
        .filter((route) => route.path.startsWith("/api/v1/") && route.method !== "ALL")
        .map((route) => `${route.method} ${route.path.slice("/api/v1".length).replace(/:(\w+)/g, "{$1}")}`),
    );
    const documented = new Set(operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    expect([...registered].sort()).toEqual([...documented].sort());
    expect(documented.size).toBe(routeList.length);
  });

  it("has every documented operation answered by a route of the server", async () => {
    for (const { path, method } of operations()) {
      const url = `/api/v1${path.replace(/\{\w+\}/g, "x")}`;
      const response = await server.app.request(url, { method: method.toUpperCase() });
      const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
      expect(body?.error?.message ?? "", `${method} ${path}`).not.toMatch(/^no route for/);
    }
  });

  it("secures every route but health and the document with a bearer key, and documents errors as ErrorBody", () => {
    expect(document.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: "http", scheme: "bearer" }),
    );
    for (const response of Object.values(document.components.responses)) {
      expect(response.content["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/ErrorBody" });
    }
    for (const { path, operation } of operations()) {
      const isPublic = path === "/health" || path === "/openapi.json";
      expect(operation.security, path).toEqual(isPublic ? [] : undefined);
      expect(operation["x-pedigree-permission"], path).toEqual(expect.any(String));
      if (!isPublic) expect(operation.responses["401"], path).toEqual({ $ref: "#/components/responses/Error401" });
    }
  });
});

describe("openapi: the API reference at /api/docs", () => {
  it("is a page whose scripts and styles the server serves itself, with nothing from another host", async () => {
    const page = await fetch(`${server.url}/api/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(assets).toEqual(expect.arrayContaining(["/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"]));
    for (const asset of assets) {
      const response = await fetch(`${server.url}${asset}`);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
    const initializer = await (await fetch(`${server.url}/api/docs/init.js`)).text();
    expect(initializer).toContain('url: "/api/v1/openapi.json"');
    expect((await fetch(`${server.url}/api/docs/package.json`)).status).toBe(404);
  });
});
