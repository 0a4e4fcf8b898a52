import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Hono } from "hono";
import type { AppEnv } from "../context";

/**
 * /api/docs: the API reference, Swagger UI over /api/v1/openapi.json. Its assets come from the
 * `swagger-ui-dist` package installed beside the server, never from a CDN, so the page works offline and
 * behind a firewall. The page signs its calls with the key the web app saved in this browser, if any.
 */
export function mountApiDocs(app: Hono<AppEnv>) {
  const assetDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const assets: Record<string, string> = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
  };
  app.get("/api/docs", (c) => c.html(page));
  app.get("/api/docs/init.js", (c) => c.body(initializer, 200, { "content-type": "text/javascript; charset=utf-8" }));
  app.get("/api/docs/:asset", async (c, next) => {
    const asset = c.req.param("asset");
    const type = Object.hasOwn(assets, asset) ? assets[asset] : undefined;
    if (!type) return next();
    const bytes = await readFile(join(assetDir, asset));
    return c.body(new Uint8Array(bytes), 200, { "content-type": type, "cache-control": "public, max-age=3600" });
  });
}

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Pedigree API reference</title>
    <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png" />
    <link rel="stylesheet" href="/api/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/api/docs/swagger-ui-bundle.js"></script>
    <script src="/api/docs/init.js"></script>
  </body>
</html>
`;

const initializer = `window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  requestInterceptor: (request) => {
    const key = localStorage.getItem("pedigree.apiKey");
    if (key && !request.headers.Authorization) request.headers.Authorization = "Bearer " + key;
    return request;
  },
});
`;
