import { serveStatic } from "@hono/node-server/serve-static";
import type { Hono } from "hono";
import type { AppEnv } from "../context";

const isApiPath = (path: string) => path === "/api" || path.startsWith("/api/");

/**
 * Serves the built web app from `webRoot`: a file when one matches the path, `index.html` for any other
 * non-API GET so the app's own routes survive a reload. API paths are never answered from here.
 */
export function mountWebApp(app: Hono<AppEnv>, webRoot: string) {
  const assets = serveStatic({ root: webRoot });
  const indexPage = serveStatic({ root: webRoot, path: "index.html" });
  app.get("*", (c, next) => (isApiPath(c.req.path) ? next() : assets(c, next)));
  app.get("*", (c, next) => (isApiPath(c.req.path) ? next() : indexPage(c, next)));
}
